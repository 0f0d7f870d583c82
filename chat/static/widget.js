// Fuwu chat widget: the one script a shop pastes into its pages.
//
//   <script src="https://<fuwu>/static/chat/widget.js" data-shop="<merchant id>" defer></script>
//
// Optional: data-lang="en" or "zh" (otherwise the page's <html lang>). Plain JavaScript,
// no build step, no inline script or style (a strict Content-Security-Policy is fine).
// The frames are described in chat/PROTOCOL.md. What it keeps to:
// - every text is shown with textContent, never as HTML;
// - messages are shown in seq order, each once; a gap (also one a heartbeat reveals)
//   subscribes again with the last seq seen, and so does every reconnect;
// - a message carries a client id and stays pending (kept in localStorage) until its
//   ack; pending messages are sent again after a reconnect (a resend is harmless);
// - reconnects by itself with an exponential backoff.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.fuwuChatWidget) { return; }
  var shop = script.getAttribute("data-shop") || "";
  if (!/^[0-9a-fA-F-]{36}$/.test(shop)) { return; }
  var origin = new URL(script.src, window.location.href).origin;
  var wsOrigin = origin.replace(/^http/, "ws");

  var STRINGS = {
    en: {
      open: "Chat with us", title: "Chat with us", close: "Close the chat", placeholder: "Write a message",
      send: "Send", sending: "Sending…", sent: "Sent", read: "Read", you: "You", agent: "Agent",
      notice: "Notice", typing: "The agent is typing…", connecting: "Connecting…", offline: "Reconnecting…",
      ready: "Write your question below.", queued: "Waiting for an agent", assigned: "An agent is with you", closed: "This conversation is closed",
      rateAsk: "How did we do?", rateComment: "Anything to add? (optional)", rateSend: "Send the rating",
      rated: "Thank you for your rating.", star: "%n of 5", unread: "new messages", welcome:
        "Ask us anything about our products, your order or delivery.", failed: "Could not reach the chat. Retrying…"
    },
    zh: {
      open: "联系客服", title: "在线客服", close: "关闭聊天窗口", placeholder: "输入消息",
      send: "发送", sending: "发送中…", sent: "已发送", read: "已读", you: "我", agent: "客服",
      notice: "通知", typing: "客服正在输入…", connecting: "正在连接…", offline: "正在重新连接…",
      ready: "请在下方输入您的问题。", queued: "正在等待客服", assigned: "客服正在为您服务", closed: "本次会话已结束",
      rateAsk: "您对本次服务满意吗？", rateComment: "还有什么想说的？（可选）", rateSend: "提交评价",
      rated: "感谢您的评价。", star: "%n 分（满分 5 分）", unread: "条新消息", welcome:
        "关于商品、订单或配送的任何问题，都可以问我们。", failed: "无法连接客服，正在重试…"
    }
  };
  // The server's automatic notices are stored in English; shown in the widget's language.
  var NOTICES_ZH = [
    [/^All our agents are busy\. You are number (\d+) in the queue; we answer as soon as one is free\.$/,
      "客服都在忙。您排在第 $1 位，客服一有空就会回复您。"],
    [/^This conversation is closed\. How did we do\? Rate us from 1 to 5\.$/,
      "本次会话已结束。您对我们的服务满意吗？请打 1 到 5 分。"]
  ];
  var wanted = (script.getAttribute("data-lang") || document.documentElement.getAttribute("lang") || "en")
    .toLowerCase();
  var lang = wanted.indexOf("zh") === 0 ? "zh" : "en";
  var T = STRINGS[lang];

  // --- storage (localStorage when the browser allows it) -------------------------------
  var memory = {};
  var prefix = "fuwu-chat:" + shop + ":";
  function load(key, fallback) {
    var text = null;
    try { text = window.localStorage.getItem(prefix + key); } catch (e) { text = memory[key] || null; }
    if (text === null || text === undefined) { return fallback; }
    try { return JSON.parse(text); } catch (e) { return fallback; }
  }
  function save(key, value) {
    var text = JSON.stringify(value);
    try { window.localStorage.setItem(prefix + key, text); } catch (e) { memory[key] = text; }
  }
  function randomId(prefixText) {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) { hex += ("0" + bytes[i].toString(16)).slice(-2); }
    return prefixText + hex;
  }
  var visitor = load("visitor", null);
  if (typeof visitor !== "string" || !/^[A-Za-z0-9_-]{8,64}$/.test(visitor)) {
    visitor = randomId("v-");
    save("visitor", visitor);
  }

  // --- state ---------------------------------------------------------------------------
  var state = {
    conversation: load("conversation", null), // the conversation's id once opened
    epoch: 1,
    lastSeq: 0, // the highest seq shown, all before it shown too
    agentRead: 0,
    readSent: 0,
    status: null,
    rating: null,
    pending: load("pending", []), // [{client_id, text}] not yet acknowledged
    socket: null,
    ready: false, // subscribed to the conversation on this socket
    resyncing: false,
    opening: false, // `open` sent, `opened` not yet here
    attempt: 0,
    reconnectTimer: null,
    heartbeatTimer: null,
    typingSent: 0,
    typingTimer: null,
    unread: 0,
    isOpen: false
  };
  var shown = {}; // seq -> true
  var ownBySeq = {}; // seq -> element of the buyer's own message

  // --- the elements ----------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }
  var style = el("link");
  style.rel = "stylesheet";
  style.href = origin + "/static/chat/widget.css";
  document.head.appendChild(style);

  var root = el("div", "fuwu-chat");
  root.setAttribute("data-fuwu-chat", "");
  root.setAttribute("lang", lang === "zh" ? "zh-Hans" : "en");
  var button = el("button", "fuwu-chat-button");
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-testid", "chat-button");
  var buttonLabel = el("span", "fuwu-chat-button-label", T.open);
  var badge = el("span", "fuwu-chat-badge");
  badge.hidden = true;
  badge.setAttribute("data-testid", "chat-unread");
  button.appendChild(buttonLabel);
  button.appendChild(badge);

  var panel = el("section", "fuwu-chat-panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", T.title);
  panel.setAttribute("data-testid", "chat-panel");
  var head = el("header", "fuwu-chat-head");
  var title = el("h2", "fuwu-chat-title", T.title);
  var closeButton = el("button", "fuwu-chat-x", "×");
  closeButton.type = "button";
  closeButton.setAttribute("aria-label", T.close);
  closeButton.setAttribute("data-testid", "chat-close");
  head.appendChild(title);
  head.appendChild(closeButton);
  var statusLine = el("p", "fuwu-chat-status", T.connecting);
  statusLine.setAttribute("data-testid", "chat-status");
  statusLine.setAttribute("role", "status");
  var log = el("ol", "fuwu-chat-log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("data-testid", "chat-log");
  var welcome = el("li", "fuwu-chat-welcome", T.welcome);
  log.appendChild(welcome);
  var pendingList = el("ol", "fuwu-chat-log fuwu-chat-pending");
  var typingLine = el("p", "fuwu-chat-typing", T.typing);
  typingLine.hidden = true;
  typingLine.setAttribute("data-testid", "chat-typing");
  var errorLine = el("p", "fuwu-chat-error");
  errorLine.hidden = true;
  errorLine.setAttribute("role", "alert");
  errorLine.setAttribute("data-testid", "chat-error");

  var rateForm = el("form", "fuwu-chat-rate");
  rateForm.hidden = true;
  rateForm.setAttribute("data-testid", "chat-rate");
  var rateAsk = el("p", "fuwu-chat-rate-ask", T.rateAsk);
  var stars = el("div", "fuwu-chat-stars");
  stars.setAttribute("role", "radiogroup");
  stars.setAttribute("aria-label", T.rateAsk);
  for (var n = 1; n <= 5; n++) {
    var star = el("label", "fuwu-chat-star");
    var radio = el("input");
    radio.type = "radio";
    radio.name = "rating";
    radio.value = String(n);
    radio.required = true;
    radio.setAttribute("data-testid", "chat-star-" + n);
    var starText = el("span", null, String(n));
    star.title = T.star.replace("%n", String(n));
    star.appendChild(radio);
    star.appendChild(starText);
    stars.appendChild(star);
  }
  var comment = el("textarea", "fuwu-chat-comment");
  comment.rows = 2;
  comment.maxLength = 1000;
  comment.placeholder = T.rateComment;
  comment.setAttribute("aria-label", T.rateComment);
  comment.setAttribute("data-testid", "chat-rate-comment");
  var rateButton = el("button", "fuwu-chat-send", T.rateSend);
  rateButton.type = "submit";
  rateButton.setAttribute("data-testid", "chat-rate-send");
  rateForm.appendChild(rateAsk);
  rateForm.appendChild(stars);
  rateForm.appendChild(comment);
  rateForm.appendChild(rateButton);
  var ratedLine = el("p", "fuwu-chat-rated", T.rated);
  ratedLine.hidden = true;
  ratedLine.setAttribute("data-testid", "chat-rated");

  var form = el("form", "fuwu-chat-compose");
  var input = el("textarea", "fuwu-chat-input");
  input.rows = 2;
  input.maxLength = 4000;
  input.placeholder = T.placeholder;
  input.setAttribute("aria-label", T.placeholder);
  input.setAttribute("data-testid", "chat-input");
  var send = el("button", "fuwu-chat-send", T.send);
  send.type = "submit";
  send.setAttribute("data-testid", "chat-send");
  form.appendChild(input);
  form.appendChild(send);

  var body = el("div", "fuwu-chat-body");
  body.appendChild(log);
  body.appendChild(pendingList);
  body.appendChild(typingLine);
  body.appendChild(rateForm);
  body.appendChild(ratedLine);
  panel.appendChild(head);
  panel.appendChild(statusLine);
  panel.appendChild(body);
  panel.appendChild(errorLine);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(button);

  // --- showing ---------------------------------------------------------------------------
  function scrollDown() { body.scrollTop = body.scrollHeight; }
  function timeOf(iso) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return ""; }
    return moment.toLocaleTimeString(lang === "zh" ? "zh-CN" : [], { hour: "2-digit", minute: "2-digit" });
  }
  function noticeText(text) {
    if (lang !== "zh") { return text; }
    for (var i = 0; i < NOTICES_ZH.length; i++) {
      if (NOTICES_ZH[i][0].test(text)) { return text.replace(NOTICES_ZH[i][0], NOTICES_ZH[i][1]); }
    }
    return text;
  }
  function messageItem(frame) {
    var kind = frame.sender;
    var item = el("li", "fuwu-chat-msg fuwu-chat-from-" + (kind === "buyer" ? "me" : kind === "system" ? "system" : "agent"));
    item.setAttribute("data-seq", String(frame.seq || ""));
    item.setAttribute("data-testid", "chat-message");
    if (kind !== "buyer") {
      item.appendChild(el("span", "fuwu-chat-who", kind === "system" ? T.notice : T.agent));
    }
    item.appendChild(el("span", "fuwu-chat-text", kind === "system" ? noticeText(frame.text) : frame.text));
    var meta = el("span", "fuwu-chat-meta", frame.at ? timeOf(frame.at) : "");
    item.appendChild(meta);
    if (kind === "buyer") {
      var receipt = el("span", "fuwu-chat-receipt", frame.seq ? T.sent : T.sending);
      receipt.setAttribute("data-testid", "chat-receipt");
      item.appendChild(receipt);
    }
    return item;
  }
  function showReceipts() {
    Object.keys(ownBySeq).forEach(function (seq) {
      var receipt = ownBySeq[seq].querySelector(".fuwu-chat-receipt");
      if (receipt) { receipt.textContent = Number(seq) <= state.agentRead ? T.read : T.sent; }
    });
  }
  function setStatus(text) { statusLine.textContent = text; }
  function showConversationStatus() {
    if (!state.socket || state.socket.readyState !== 1) { return; }
    setStatus(state.status === "queued" ? T.queued : state.status === "closed" ? T.closed
      : state.status === "assigned" ? T.assigned : state.conversation ? T.connecting : T.ready);
    var wantsRating = state.status === "closed" && !state.rating;
    rateForm.hidden = !wantsRating;
    ratedLine.hidden = !(state.status === "closed" && state.rating);
  }
  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }
  function setUnread(count) {
    state.unread = count;
    badge.textContent = count > 0 ? String(count) : "";
    badge.hidden = count <= 0;
    badge.setAttribute("aria-label", count + " " + T.unread);
  }

  function showMessage(frame) {
    var seq = Number(frame.seq);
    if (shown[seq]) { return; }
    shown[seq] = true;
    // The buyer's own message: the pending copy (shown while sending) gives way to it.
    var waiting = pendingList.querySelector('[data-client-id="' + cssEscape(frame.client_id) + '"]');
    if (waiting) { waiting.parentNode.removeChild(waiting); }
    if (frame.sender === "buyer") { dropPending(frame.client_id); }
    var item = messageItem(frame);
    if (frame.sender === "buyer") { ownBySeq[seq] = item; }
    log.appendChild(item);
    if (frame.sender === "agent" || frame.sender === "member") {
      typingLine.hidden = true;
      if (!state.isOpen) { setUnread(state.unread + 1); }
    }
    showReceipts();
    scrollDown();
  }
  function cssEscape(text) {
    return String(text).replace(/["\\]/g, "\\$&");
  }

  // --- sending -----------------------------------------------------------------------------
  function frameOut(frame) {
    if (state.socket && state.socket.readyState === 1) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }
  function dropPending(clientId) {
    var before = state.pending.length;
    state.pending = state.pending.filter(function (p) { return p.client_id !== clientId; });
    if (state.pending.length !== before) { save("pending", state.pending); }
  }
  function showPending(entry) {
    if (pendingList.querySelector('[data-client-id="' + cssEscape(entry.client_id) + '"]')) { return; }
    var item = messageItem({ sender: "buyer", text: entry.text });
    item.setAttribute("data-client-id", entry.client_id);
    pendingList.appendChild(item);
    scrollDown();
  }
  // A conversation starts with the buyer's first message, not with opening the panel:
  // an agent's place is taken only by someone who asked something.
  function openConversation() {
    if (!state.conversation && !state.opening && frameOut({ type: "open", last_seq: 0 })) { state.opening = true; }
  }
  function sendPending() {
    if (!state.ready) { return; }
    state.pending.forEach(function (entry) {
      frameOut({ type: "send", conversation: state.conversation, client_id: entry.client_id, text: entry.text });
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { return; }
    var entry = { client_id: randomId("w-"), text: text };
    state.pending.push(entry);
    save("pending", state.pending);
    input.value = "";
    showPending(entry);
    showError("");
    if (!state.socket) { connect(); }
    openConversation();
    if (state.ready) {
      frameOut({ type: "send", conversation: state.conversation, client_id: entry.client_id, text: text });
    }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });
  input.addEventListener("input", function () {
    var moment = Date.now();
    if (state.ready && moment - state.typingSent > 3000) {
      state.typingSent = moment;
      frameOut({ type: "typing", conversation: state.conversation });
    }
  });
  rateForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = rateForm.querySelector("input[name=rating]:checked");
    if (!chosen || !state.conversation) { return; }
    frameOut({ type: "rate", conversation: state.conversation, rating: Number(chosen.value),
      comment: comment.value });
  });

  function markRead() {
    if (state.isOpen && state.ready && document.visibilityState !== "hidden" && state.lastSeq > state.readSent) {
      state.readSent = state.lastSeq;
      frameOut({ type: "read", conversation: state.conversation, seq: state.lastSeq });
    }
  }
  document.addEventListener("visibilitychange", markRead);

  // --- the connection ------------------------------------------------------------------------
  function subscribe() {
    state.resyncing = true;
    frameOut({ type: "subscribe", conversation: state.conversation, last_seq: state.lastSeq, epoch: state.epoch });
  }
  function onStatus(frame) {
    if (state.conversation !== frame.conversation) {
      state.conversation = frame.conversation;
      save("conversation", frame.conversation);
    }
    state.epoch = frame.epoch || 1;
    state.status = frame.status;
    state.rating = frame.rating;
    state.agentRead = Math.max(state.agentRead, frame.agent_read || 0);
    showReceipts();
    showConversationStatus();
  }
  function handle(frame) {
    switch (frame.type) {
      case "hello":
        state.attempt = 0;
        state.opening = false;
        if (state.conversation) { subscribe(); } else if (state.pending.length) { openConversation(); }
        showConversationStatus();
        startHeartbeat((frame.heartbeat_seconds || 20) * 1000);
        break;
      case "opened":
        state.opening = false;
        onStatus(frame);
        break;
      case "subscribed":
        onStatus(frame);
        state.ready = true;
        state.resyncing = false;
        sendPending();
        markRead();
        break;
      case "message":
        if (frame.conversation !== state.conversation) { return; }
        if (frame.seq <= state.lastSeq) { return; } // seen already
        if (frame.seq > state.lastSeq + 1) { // a hole: ask for what is missing, in order
          if (!state.resyncing) { subscribe(); }
          return;
        }
        showMessage(frame);
        state.lastSeq = frame.seq;
        markRead();
        break;
      case "reset": // past the replay cap: start again from the latest page
        log.textContent = "";
        log.appendChild(welcome);
        shown = {};
        ownBySeq = {};
        state.lastSeq = frame.seq;
        state.epoch = frame.epoch || 1;
        frameOut({ type: "history", conversation: frame.conversation, limit: 50 });
        break;
      case "history":
        (frame.messages || []).forEach(function (message) {
          if (message.seq <= state.lastSeq) { showMessage(message); }
        });
        break;
      case "ack":
        dropPending(frame.client_id);
        break;
      case "heartbeat":
        if (state.conversation && frame.positions && !state.resyncing &&
            frame.positions[state.conversation] > state.lastSeq) { subscribe(); }
        break;
      case "typing":
        if (frame.conversation === state.conversation && frame.sender !== "buyer") {
          typingLine.hidden = false;
          clearTimeout(state.typingTimer);
          state.typingTimer = setTimeout(function () { typingLine.hidden = true; }, 5000);
          scrollDown();
        }
        break;
      case "read":
        if (frame.conversation === state.conversation && frame.reader === "agent") {
          state.agentRead = Math.max(state.agentRead, frame.seq);
          showReceipts();
        }
        break;
      case "closed":
        if (frame.conversation === state.conversation) {
          state.status = "closed";
          state.rating = null;
          typingLine.hidden = true;
          showConversationStatus();
          scrollDown();
        }
        break;
      case "rated":
        state.rating = frame.rating;
        showConversationStatus();
        break;
      case "error":
        if (frame.code === "conversation_not_found" && frame.ref === "subscribe") {
          // Erased or gone: start a new conversation.
          state.conversation = null;
          state.lastSeq = 0;
          save("conversation", null);
          if (state.pending.length) { openConversation(); }
          return;
        }
        if (frame.code === "already_rated") {
          state.rating = state.rating || true;
          showConversationStatus();
          return;
        }
        showError(frame.detail || frame.code);
        break;
      default:
        break;
    }
  }
  function startHeartbeat(every) {
    clearInterval(state.heartbeatTimer);
    state.heartbeatTimer = setInterval(function () { frameOut({ type: "heartbeat" }); }, every);
  }
  function scheduleReconnect(waitMs) {
    clearTimeout(state.reconnectTimer);
    var backoff = Math.min(30000, 1000 * Math.pow(2, state.attempt));
    var delay = waitMs || Math.round(backoff * (0.5 + Math.random() * 0.5));
    state.attempt += 1;
    state.reconnectTimer = setTimeout(connect, delay);
  }
  function connect() {
    if (state.socket) { return; }
    clearTimeout(state.reconnectTimer);
    setStatus(state.attempt ? T.offline : T.connecting);
    var placeholder = {};
    state.socket = placeholder; // connecting
    fetch(origin + "/api/v1/shops/" + encodeURIComponent(shop) + "/visitor-token?visitor=" +
      encodeURIComponent(visitor), { credentials: "omit" }).then(function (answer) {
      if (!answer.ok) {
        var retry = Number(answer.headers.get("Retry-After")) || 0;
        throw { retry: retry * 1000 };
      }
      return answer.json();
    }).then(function (token) {
      var socket = new WebSocket(wsOrigin + token.websocket);
      state.socket = socket;
      socket.addEventListener("message", function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame && typeof frame.type === "string") { handle(frame); }
      });
      socket.addEventListener("open", function () { showError(""); });
      socket.addEventListener("close", function () {
        if (state.socket === socket) { state.socket = null; }
        state.ready = false;
        state.resyncing = false;
        clearInterval(state.heartbeatTimer);
        setStatus(T.offline);
        scheduleReconnect(0);
      });
    }).catch(function (problem) {
      if (state.socket === placeholder) { state.socket = null; }
      setStatus(T.failed);
      scheduleReconnect(problem && problem.retry);
    });
  }

  // --- opening and closing the panel ------------------------------------------------------------
  function setOpen(open) {
    state.isOpen = open;
    panel.hidden = !open;
    root.classList.toggle("fuwu-chat-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      setUnread(0);
      if (!state.socket) { connect(); }
      markRead();
      scrollDown();
      input.focus();
    }
  }
  button.addEventListener("click", function () { setOpen(!state.isOpen); });
  closeButton.addEventListener("click", function () { setOpen(false); button.focus(); });

  function mount() {
    document.body.appendChild(root);
    state.pending.forEach(showPending);
    // A chat under way (or messages waiting to go) carries on across the shop's pages.
    if (state.conversation || state.pending.length) { connect(); }
  }
  window.fuwuChatWidget = { open: function () { setOpen(true); } };
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
