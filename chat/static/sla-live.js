// A contract's live SLA panel, updated as agents reply (pushed, not polled): the page
// opens the chat socket with the signed-in session; each `sla` frame naming this
// contract fetches the panel again from /contracts/<id>/sla-panel (HTML the server
// rendered and escaped) and puts it in place. Reconnects with a backoff, and fetches
// the panel once after each reconnect in case a frame was missed meanwhile.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.querySelector("[data-sla-live]");
    if (!panel || !window.WebSocket || !window.DOMParser) { return; }
    var contract = panel.getAttribute("data-contract");
    var source = panel.getAttribute("data-sla-live");
    var attempt = 0, loading = false, again = false, connectedOnce = false;

    function reload() {
      if (loading) { again = true; return; }
      loading = true;
      fetch(source, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (answer) {
        return answer.ok ? answer.text() : null;
      }).then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-sla-live]");
        if (fresh) {
          var current = document.querySelector("[data-sla-live]");
          current.replaceWith(document.importNode(fresh, true));
        }
      }).catch(function () { /* the next frame or reconnect tries again */ }).then(function () {
        loading = false;
        if (again) { again = false; reload(); }
      });
    }

    function connect() {
      var socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/chat");
      socket.addEventListener("message", function (event) {
        var frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame.type === "hello") {
          socket.send(JSON.stringify({ type: "watch_sla", contract: contract }));  // this contract's frames only
          if (connectedOnce) { reload(); }
          connectedOnce = true;
          attempt = 0;  // no heartbeats from here: they would keep an agent's presence
        } else if (frame.type === "sla" && frame.contract === contract) {
          reload();
        }
      });
      socket.addEventListener("close", function (event) {
        if (event.code === 4401) { return; } // signed out: nothing to follow
        var delay = Math.min(60000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() * 0.5);
        attempt += 1;
        setTimeout(connect, delay);
      });
    }
    connect();
  });
})();
