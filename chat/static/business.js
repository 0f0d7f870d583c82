/* The live part of a business conversation's page (/conversations/{id}): a merchant's
   and a provider's members talk about a tender or a contract over /ws/chat
   (chat/PROTOCOL.md). Same rules as the widget and the console: subscribe with the
   last seq shown (and again on every reconnect and on any gap), a message is shown
   once per seq, an unacknowledged message is kept and sent again with the same
   client_id, text goes in with textContent only. */
(function () {
  "use strict";
  var log = document.querySelector("[data-live-conversation]");
  if (!log) { return; }
  var id = log.getAttribute("data-live-conversation");
  var side = log.getAttribute("data-side");
  var names = { merchant: log.getAttribute("data-merchant"), provider: log.getAttribute("data-provider") };
  var status = document.querySelector("[data-testid=live-status]");
  var form = document.querySelector("[data-testid=live-compose]");
  var lastSeq = parseInt(log.getAttribute("data-last-seq"), 10) || 0;
  var otherRead = 0;
  var pending = {};  // client_id -> text, until acknowledged
  var socket = null;
  var backoff = 1000;
  var ready = false;
  var typingTimer = null;

  function say(key, who) {
    status.textContent = (status.getAttribute("data-" + key) || "").replace("%(who)s", who || "");
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString();
  }
  function receipts() {
    var mine = log.querySelectorAll("li.from-" + side + "[data-seq]");
    Array.prototype.forEach.call(mine, function (item) {
      var seq = parseInt(item.getAttribute("data-seq"), 10);
      var mark = item.querySelector(".chat-receipt");
      if (!mark) { mark = el("span", "chat-receipt muted"); mark.setAttribute("data-testid", "live-receipt"); item.appendChild(mark); }
      mark.textContent = seq <= otherRead ? status.getAttribute("data-read") : "";
    });
  }
  function show(frame) {
    if (frame.seq <= lastSeq) { return; }  // already shown
    if (frame.seq > lastSeq + 1) { resubscribe(); return; }  // a hole: fetch it first
    var empty = log.querySelector("[data-empty]");
    if (empty) { empty.remove(); }
    var pendingItem = log.querySelector('[data-client-id="' + CSS.escape(frame.client_id) + '"]');
    if (pendingItem) { pendingItem.remove(); }
    var item = el("li", "chat-msg from-" + frame.sender);
    item.setAttribute("data-seq", String(frame.seq));
    item.setAttribute("data-testid", "live-message");
    item.appendChild(el("span", "chat-who", names[frame.sender] || frame.sender));
    item.appendChild(el("span", "chat-text", frame.text));
    item.appendChild(el("time", "chat-time muted", when(frame.at)));
    log.appendChild(item);
    lastSeq = frame.seq;
    delete pending[frame.client_id];
    receipts();
    if (document.visibilityState !== "hidden") { out({ type: "read", conversation: id, seq: lastSeq }); }
  }
  function out(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function resubscribe() {
    ready = false;
    out({ type: "subscribe", conversation: id, last_seq: lastSeq });
  }
  function flush() {
    Object.keys(pending).forEach(function (clientId) {
      out({ type: "send", conversation: id, client_id: clientId, text: pending[clientId] });
    });
  }
  function connect() {
    say("connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat");
    socket.onopen = function () { backoff = 1000; };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "hello") { resubscribe(); return; }
      if (frame.conversation !== id && frame.type !== "error") { return; }
      if (frame.type === "message") { show(frame); }
      else if (frame.type === "subscribed") {
        ready = true;
        otherRead = side === "merchant" ? frame.agent_read : frame.buyer_read;
        receipts();
        say("online");
        flush();
      } else if (frame.type === "reset") { location.reload(); }
      else if (frame.type === "read" && frame.reader !== side) { otherRead = Math.max(otherRead, frame.seq); receipts(); }
      else if (frame.type === "typing" && frame.sender !== side) {
        say("typing", names[frame.sender]);
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { say("online"); }, 4000);
      } else if (frame.type === "heartbeat") {
        var position = (frame.positions || {})[id];
        if (ready && position > lastSeq) { resubscribe(); }
      } else if (frame.type === "error") { status.textContent = frame.detail; }
    };
    socket.onclose = function () {
      ready = false;
      say("connecting");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = form.elements.text.value;
    if (!text.trim()) { return; }
    var clientId = "b-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    pending[clientId] = text;
    var item = el("li", "chat-msg from-" + side + " pending");
    item.setAttribute("data-client-id", clientId);
    item.appendChild(el("span", "chat-who", names[side]));
    item.appendChild(el("span", "chat-text", text));
    log.appendChild(item);
    form.elements.text.value = "";
    if (!ready || !out({ type: "send", conversation: id, client_id: clientId, text: text })) { say("failed"); }
  });
  form.elements.text.addEventListener("input", function () { if (ready) { out({ type: "typing", conversation: id }); } });
  // No heartbeat frames from here: the server's own every 20 s carry the positions, and
  // a client's would keep an agent's presence online (as sla-live.js, this page is no console).
  connect();
}());
