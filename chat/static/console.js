// The agent console (/console): presence, the queue, my conversations with unread
// counts, the open conversation (typing, read receipts, canned replies, transfer,
// close) and the customer's earlier conversations. Frames: chat/PROTOCOL.md.
// Texts come translated from the page (data- attributes); every text is shown with
// textContent. Each conversation's messages are shown in seq order, each once; a gap
// (also one a heartbeat reveals) subscribes again with the last seq seen, as does
// every reconnect; a reply stays pending until its ack and is sent again after a
// reconnect with the same client id.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-console]");
    if (!root) { return; }
    var org = root.getAttribute("data-org");
    var me = root.getAttribute("data-user");
    var S = document.querySelector("template[data-strings]").dataset;
    function q(selector) { return root.querySelector(selector); }
    var presenceSelect = q("[data-presence]"), linkState = q("[data-link-state]");
    var queueList = q("[data-queue]"), queueCount = q("[data-queue-count]"), mineList = q("[data-mine]");
    var title = q("[data-title]"), actions = q("[data-actions]"), log = q("[data-log]");
    var typingLine = q("[data-typing]"), errorLine = q("[data-error]"), compose = q("[data-compose]");
    var text = q("[data-text]"), cannedSelect = q("[data-canned]"), cannedList = q("[data-canned-list]");
    var cannedForm = q("[data-canned-form]"), transferForm = q("[data-transfer-form]");
    var transferTo = q("[data-transfer-to]"), closeButton = q("[data-close]"), earlier = q("[data-earlier]");
    var csrfInput = document.querySelector("input[name=_csrf_token]");

    var socket = null, attempt = 0, reconnectTimer = null, heartbeatTimer = null, typingTimer = null;
    var typingSent = 0;
    var conversations = {}; // id -> {row, lastSeq, epoch, buyerRead, readSent, messages: {seq: frame}, pending: {client_id: text}, ready, resyncing, closed}
    var active = null;
    var mineIds = [];
    var replies = [];

    function el(tag, className, content) {
      var node = document.createElement(tag);
      if (className) { node.className = className; }
      if (content !== undefined && content !== null) { node.textContent = content; }
      return node;
    }
    function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
    function empty(list) {
      if (!list.children.length) { list.appendChild(el("li", "muted", list.getAttribute("data-empty"))); }
    }
    function when(iso) {
      var moment = new Date(iso);
      return isNaN(moment.getTime()) ? "" : moment.toLocaleString(document.documentElement.lang || [],
        { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    }
    function visitorName(row) { return S.visitor.replace("{id}", (row.buyer || "").slice(-6)); }
    function showError(message) { errorLine.textContent = message || ""; errorLine.hidden = !message; }
    function randomId() {
      var bytes = new Uint8Array(12);
      window.crypto.getRandomValues(bytes);
      return "a-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    }

    // --- the API (the session cookie; the CSRF token for changes) -----------------------
    function api(method, path, body) {
      var headers = { "Accept": "application/json" };
      if (body !== undefined) { headers["Content-Type"] = "application/json"; }
      if (method !== "GET" && csrfInput) { headers["X-CSRFToken"] = csrfInput.value; }
      return fetch("/api/v1/orgs/" + org + path, { method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body) }).then(function (answer) {
        if (answer.status === 204) { return null; }
        return answer.json().then(function (data) {
          if (!answer.ok) { throw new Error(data && data.detail ? data.detail : String(answer.status)); }
          return data;
        });
      });
    }

    // --- the socket ----------------------------------------------------------------------
    function out(frame) {
      if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
      return false;
    }
    function setLink(which) {
      linkState.textContent = linkState.getAttribute("data-" + which);
      linkState.setAttribute("data-state", which);
    }
    function connect() {
      clearTimeout(reconnectTimer);
      setLink(attempt ? "disconnected" : "connecting");
      var opened = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/chat");
      socket = opened;
      opened.addEventListener("message", function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame && typeof frame.type === "string") { handle(frame); }
      });
      opened.addEventListener("close", function () {
        if (socket === opened) { socket = null; }
        clearInterval(heartbeatTimer);
        Object.keys(conversations).forEach(function (id) {
          conversations[id].ready = false;
          conversations[id].resyncing = false;
        });
        setLink("disconnected");
        var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() * 0.5);
        attempt += 1;
        reconnectTimer = setTimeout(connect, delay);
      });
    }
    function subscribe(id) {
      var c = conversations[id];
      c.resyncing = out({ type: "subscribe", conversation: id, last_seq: c.lastSeq, epoch: c.epoch });
    }
    function track(row) {
      var c = conversations[row.id];
      if (!c) {
        c = conversations[row.id] = { row: row, lastSeq: 0, epoch: row.epoch || 1, buyerRead: row.buyer_read || 0,
          readSent: row.agent_read || 0, messages: {}, order: [], pending: {}, ready: false, resyncing: false,
          closed: row.status === "closed" };
        subscribe(row.id);
      } else {
        c.row = row;
      }
      return c;
    }

    function handle(frame) {
      var c = frame.conversation ? conversations[frame.conversation] : null;
      switch (frame.type) {
        case "hello":
          attempt = 0;
          setLink("connected");
          clearInterval(heartbeatTimer);
          heartbeatTimer = setInterval(function () { out({ type: "heartbeat" }); },
            (frame.heartbeat_seconds || 20) * 1000);
          if (presenceSelect.value !== "offline") {
            out({ type: "presence", status: presenceSelect.value, organisation: org });
          }
          Object.keys(conversations).forEach(subscribe);
          loadQueue();
          loadMine();
          break;
        case "subscribed":
          if (!c) { return; }
          c.ready = true;
          c.resyncing = false;
          c.epoch = frame.epoch || 1;
          c.buyerRead = Math.max(c.buyerRead, frame.buyer_read || 0);
          c.closed = frame.status === "closed";
          c.row.status = frame.status;
          Object.keys(c.pending).forEach(function (clientId) {
            out({ type: "send", conversation: frame.conversation, client_id: clientId, text: c.pending[clientId] });
          });
          refresh(frame.conversation);
          break;
        case "message":
          if (!c || frame.seq <= c.lastSeq) { return; }
          if (frame.seq > c.lastSeq + 1) { if (!c.resyncing) { subscribe(frame.conversation); } return; }
          add(c, frame);
          refresh(frame.conversation);
          break;
        case "reset":
          if (!c) { return; }
          c.messages = {};
          c.order = [];
          c.lastSeq = frame.seq;
          c.epoch = frame.epoch || 1;
          out({ type: "history", conversation: frame.conversation, limit: 100 });
          break;
        case "history":
          if (!c) { return; }
          (frame.messages || []).forEach(function (m) { if (m.seq <= c.lastSeq && !c.messages[m.seq]) { keep(c, m); } });
          refresh(frame.conversation);
          break;
        case "ack":
          if (c) { delete c.pending[frame.client_id]; refresh(frame.conversation); }
          break;
        case "heartbeat":
          Object.keys(frame.positions || {}).forEach(function (id) {
            var known = conversations[id];
            if (known && known.ready && !known.resyncing && frame.positions[id] > known.lastSeq) { subscribe(id); }
          });
          break;
        case "typing":
          if (c && frame.sender === "buyer" && frame.conversation === active) {
            typingLine.hidden = false;
            clearTimeout(typingTimer);
            typingTimer = setTimeout(function () { typingLine.hidden = true; }, 5000);
          }
          break;
        case "read":
          if (!c) { return; }
          if (frame.reader === "buyer") { c.buyerRead = Math.max(c.buyerRead, frame.seq); }
          else { c.readSent = Math.max(c.readSent, frame.seq); }
          refresh(frame.conversation);
          break;
        case "closed":
          if (!c) { return; }
          c.closed = true;
          c.row.status = "closed";
          refresh(frame.conversation);
          loadMine();
          break;
        case "assigned":
          loadMine();
          break;
        case "queue":
          loadQueue();
          break;
        case "presence":
          if (frame.user === me && frame.presence) { presenceSelect.value = frame.presence; }
          loadColleagues();
          break;
        case "error":
          showError(frame.detail || frame.code);
          if (frame.ref === "transfer") { loadMine(); }
          break;
        default:
          break;
      }
    }
    function keep(c, frame) {
      c.messages[frame.seq] = frame;
      c.order.push(frame.seq);
      c.order.sort(function (a, b) { return a - b; });
    }
    function add(c, frame) {
      keep(c, frame);
      c.lastSeq = frame.seq;
      if (frame.sender === "buyer" && frame.conversation === active) { typingLine.hidden = true; }
      delete c.pending[frame.client_id];
    }

    // --- lists ---------------------------------------------------------------------------
    function loadQueue() {
      api("GET", "/conversations?status=queued&limit=50").then(function (page) {
        clear(queueList);
        page.items.forEach(function (row) {
          var item = el("li", "console-item");
          item.setAttribute("data-testid", "queue-item");
          item.appendChild(el("span", "console-item-name", visitorName(row)));
          item.appendChild(el("span", "muted", S.waiting.replace("{time}", when(row.queued_at || row.opened_at))));
          queueList.appendChild(item);
        });
        queueCount.textContent = String(page.items.length);
        queueCount.hidden = !page.items.length;
        empty(queueList);
      }).catch(function (problem) { showError(problem.message); });
    }
    function loadMine() {
      api("GET", "/conversations?status=assigned&mine=true&limit=100").then(function (page) {
        mineIds = page.items.map(function (row) { track(row); return row.id; });
        drawMine();
        if (!active && mineIds.length) { choose(mineIds[0]); }
      }).catch(function (problem) { showError(problem.message); });
    }
    function unread(c) { return Math.max(0, c.lastSeq - c.readSent); }
    function drawMine() {
      clear(mineList);
      var ids = mineIds.slice();
      if (active && ids.indexOf(active) < 0) { ids.unshift(active); }
      ids.forEach(function (id) {
        var c = conversations[id];
        var item = el("li", "console-item" + (id === active ? " is-active" : ""));
        item.setAttribute("data-testid", "mine-item");
        var link = el("button", "linkish console-open", visitorName(c.row));
        link.type = "button";
        link.addEventListener("click", function () { choose(id); });
        item.appendChild(link);
        if (c.closed) { item.appendChild(el("span", "muted", S.statusClosed)); }
        var count = unread(c);
        if (count > 0 && id !== active) {
          var badge = el("span", "badge", String(count));
          badge.setAttribute("data-testid", "mine-unread");
          badge.title = S.unread;
          item.appendChild(badge);
        }
        mineList.appendChild(item);
      });
      empty(mineList);
    }

    // --- the open conversation -----------------------------------------------------------------
    function choose(id) {
      active = id;
      typingLine.hidden = true;
      showError("");
      var c = conversations[id];
      title.textContent = visitorName(c.row);
      loadEarlier(c.row);
      loadColleagues();
      refresh(id);
      text.focus();
    }
    function refresh(id) {
      drawMine();
      if (id !== active) { return; }
      var c = conversations[id];
      clear(log);
      c.order.forEach(function (seq) { log.appendChild(messageItem(c, c.messages[seq])); });
      Object.keys(c.pending).forEach(function (clientId) {
        log.appendChild(messageItem(c, { sender: "agent", sender_id: me, text: c.pending[clientId], pending: true }));
      });
      if (c.closed) { log.appendChild(el("li", "chat-notice muted", S.closed)); }
      log.scrollTop = log.scrollHeight;
      actions.hidden = c.closed;
      compose.hidden = c.closed;
      markRead(c, id);
    }
    function messageItem(c, frame) {
      var mine = frame.sender === "agent" || frame.sender === "member";
      var item = el("li", "chat-msg from-" + frame.sender);
      item.setAttribute("data-testid", "console-message");
      if (frame.seq) { item.setAttribute("data-seq", String(frame.seq)); }
      var who = frame.sender === "buyer" ? S.buyer : frame.sender === "system" ? S.system
        : frame.sender_id === me ? S.you : S.colleague;
      item.appendChild(el("span", "chat-who", who));
      item.appendChild(el("span", "chat-text", frame.text));
      if (frame.at) { item.appendChild(el("time", "chat-time muted", when(frame.at))); }
      if (mine) {
        var receipt = el("span", "chat-receipt muted",
          frame.pending ? S.sending : frame.seq <= c.buyerRead ? S.read : S.sent);
        receipt.setAttribute("data-testid", "console-receipt");
        item.appendChild(receipt);
      }
      return item;
    }
    function markRead(c, id) {
      if (document.visibilityState !== "hidden" && c.ready && c.lastSeq > c.readSent) {
        c.readSent = c.lastSeq;
        out({ type: "read", conversation: id, seq: c.lastSeq });
        drawMine();
      }
    }
    document.addEventListener("visibilitychange", function () { if (active) { markRead(conversations[active], active); } });

    function loadEarlier(row) {
      clear(earlier);
      if (!row.buyer) { empty(earlier); return; }
      api("GET", "/conversations?buyer=" + encodeURIComponent(row.buyer) + "&limit=20").then(function (page) {
        clear(earlier);
        page.items.filter(function (other) { return other.id !== row.id; }).forEach(function (other) {
          var item = el("li", "console-item");
          item.setAttribute("data-testid", "earlier-item");
          var link = el("a", null, when(other.opened_at));
          link.href = "/conversations/" + other.id;
          item.appendChild(link);
          item.appendChild(el("span", "muted", S["status" + other.status.charAt(0).toUpperCase() + other.status.slice(1)]));
          if (other.rating) { item.appendChild(el("span", "muted", S.rated.replace("{rating}", String(other.rating)))); }
          earlier.appendChild(item);
        });
        empty(earlier);
      }).catch(function (problem) { showError(problem.message); });
    }
    function loadColleagues() {
      api("GET", "/seats").then(function (seats) {
        var chosen = transferTo.value;
        clear(transferTo);
        seats.filter(function (seat) { return seat.user !== me && seat.presence !== "offline"; }).forEach(function (seat) {
          var option = el("option", null, seat.name + " (" + seat.load + "/" + seat.capacity + ")");
          option.value = seat.user;
          transferTo.appendChild(option);
        });
        var nobody = !transferTo.children.length;
        if (nobody) {
          var none = el("option", null, S.noColleague);
          none.value = "";
          transferTo.appendChild(none);
        }
        transferForm.querySelector("button").disabled = nobody;
        transferTo.value = chosen;
        if (transferTo.selectedIndex < 0) { transferTo.selectedIndex = 0; }
        var mineSeat = seats.filter(function (seat) { return seat.user === me; })[0];
        if (mineSeat && !presenceSelect.dataset.touched) { presenceSelect.value = mineSeat.presence; }
      }).catch(function () { /* a member without a seat list: nothing to transfer to */ });
    }

    // --- canned replies ---------------------------------------------------------------------
    function loadReplies() {
      api("GET", "/canned-replies").then(function (rows) {
        replies = rows;
        while (cannedSelect.options.length > 1) { cannedSelect.remove(1); }
        clear(cannedList);
        rows.forEach(function (reply) {
          var option = el("option", null, reply.title);
          option.value = reply.id;
          cannedSelect.appendChild(option);
          var item = el("li", "console-item");
          item.appendChild(el("strong", null, reply.title));
          item.appendChild(el("span", "muted console-reply-text", reply.text));
          if (root.getAttribute("data-can-edit-replies") === "true") {
            var remove = el("button", "linkish danger", cannedList.getAttribute("data-remove"));
            remove.type = "button";
            remove.addEventListener("click", function () {
              api("DELETE", "/canned-replies/" + reply.id).then(loadReplies)
                .catch(function (problem) { showError(problem.message); });
            });
            item.appendChild(remove);
          }
          cannedList.appendChild(item);
        });
        empty(cannedList);
      }).catch(function (problem) { showError(problem.message); });
    }
    cannedSelect.addEventListener("change", function () {
      var chosen = replies.filter(function (reply) { return reply.id === cannedSelect.value; })[0];
      if (chosen) {
        text.value = text.value ? text.value + "\n" + chosen.text : chosen.text;
        text.focus();
      }
      cannedSelect.value = "";
    });
    if (cannedForm) {
      cannedForm.addEventListener("submit", function (event) {
        event.preventDefault();
        api("POST", "/canned-replies", { title: cannedForm.elements.title.value, text: cannedForm.elements.text.value })
          .then(function () { cannedForm.reset(); loadReplies(); })
          .catch(function (problem) { showError(problem.message); });
      });
    }

    // --- acting ---------------------------------------------------------------------------------
    presenceSelect.addEventListener("change", function () {
      presenceSelect.dataset.touched = "1";
      out({ type: "presence", status: presenceSelect.value, organisation: org });
    });
    compose.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!active || !text.value.trim()) { return; }
      var c = conversations[active], clientId = randomId();
      c.pending[clientId] = text.value;
      if (c.ready) { out({ type: "send", conversation: active, client_id: clientId, text: text.value }); }
      text.value = "";
      refresh(active);
    });
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        compose.requestSubmit();
      }
    });
    text.addEventListener("input", function () {
      var moment = Date.now();
      if (active && moment - typingSent > 3000) {
        typingSent = moment;
        out({ type: "typing", conversation: active });
      }
    });
    transferForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!active || !transferTo.value) { return; }
      out({ type: "transfer", conversation: active, to: transferTo.value });
      // The colleague is told with `assigned`; this list follows the database.
      setTimeout(loadMine, 500);
    });
    closeButton.addEventListener("click", function () {
      if (active && window.confirm(closeButton.getAttribute("data-confirm-text"))) {
        out({ type: "close", conversation: active });
      }
    });

    loadReplies();
    loadColleagues();
    connect();
  });
})();
