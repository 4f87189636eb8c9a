// The "you will be signed out soon" warning for signed-in pages (WCAG 2.2.1 Timing adjustable).
// It opens warning-seconds before the server-side session would end for want of activity,
// moves focus into itself, and "Stay signed in" (or Escape) extends the session on the server
// and returns focus to where it was. The absolute limit cannot be extended; the text says when.
(function () {
  "use strict";
  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var form = document.getElementById("session-timeout-form");
  var countdown = document.getElementById("session-timeout-countdown");
  var live = document.getElementById("session-timeout-live");
  var warnMs = parseInt(dialog.getAttribute("data-warning-seconds"), 10) * 1000;
  var started = Date.now();
  var idleEnd = started + parseInt(dialog.getAttribute("data-idle-seconds"), 10) * 1000;
  var absoluteEnd = started + parseInt(dialog.getAttribute("data-absolute-seconds"), 10) * 1000;
  var warnTimer = null;
  var tickTimer = null;
  var returnFocus = null;
  var lastSpoken = 0;

  function words(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var minutes = Math.floor(total / 60);
    var seconds = total % 60;
    var parts = [];
    if (minutes) { parts.push(minutes + (minutes === 1 ? " minute" : " minutes")); }
    if (seconds || !minutes) { parts.push(seconds + (seconds === 1 ? " second" : " seconds")); }
    return parts.join(" ");
  }

  function end() { return Math.min(idleEnd, absoluteEnd); }

  function signedOut() {
    window.clearInterval(tickTimer);
    // The session has ended on the server: loading the page again shows the signed-out state.
    window.location.assign(window.location.href);
  }

  function tick() {
    var left = end() - Date.now();
    countdown.textContent = words(Math.max(0, left));
    // A screen reader hears the time left every 30 seconds, not every second.
    if (Date.now() - lastSpoken >= 30000 && left > 0) {
      lastSpoken = Date.now();
      live.textContent = "You will be signed out in " + words(left) + ".";
    }
    // Reload a moment after the end, so the server's clock has passed it too.
    if (left <= -1500) { signedOut(); }
  }

  function open() {
    if (dialog.open) { return; }
    returnFocus = document.activeElement;
    countdown.textContent = words(end() - Date.now());
    lastSpoken = Date.now();
    dialog.showModal();
    dialog.setAttribute("tabindex", "-1");
    dialog.focus();
    tickTimer = window.setInterval(tick, 1000);
  }

  function close() {
    window.clearInterval(tickTimer);
    live.textContent = "";
    if (dialog.open) { dialog.close(); }
    if (returnFocus && document.contains(returnFocus) && returnFocus.focus) { returnFocus.focus(); }
  }

  function schedule() {
    window.clearTimeout(warnTimer);
    warnTimer = window.setTimeout(open, Math.max(0, end() - warnMs - Date.now()));
  }

  function stay() {
    var body = new FormData(form);
    return fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": body.get("csrf_token") }
    }).then(function (response) {
      if (response.status === 401) { signedOut(); return; }
      if (!response.ok) { return; }
      return response.json().then(function (data) {
        var now = Date.now();
        idleEnd = now + data.idle_seconds * 1000;
        absoluteEnd = now + data.absolute_seconds * 1000;
        close();
        live.textContent = "You are still signed in.";
        schedule();
      });
    }).catch(function () { /* offline: the warning stays open and the countdown carries on */ });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    stay();
  });
  // Escape means "not now": stay signed in rather than leave the countdown running unseen.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    stay();
  });
  // Content that htmx loads counts as activity on the server, so the idle clock starts again.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (dialog.open || !event.detail.successful) { return; }
    idleEnd = Date.now() + (parseInt(dialog.getAttribute("data-idle-seconds"), 10) * 1000);
    schedule();
  });
  schedule();
})();
