// Kiosk mode: idle warning, "I need more time", and the automatic reset.
// Without JavaScript the server still ends idle visits; this only warns first.
(function () {
  "use strict";
  var dialog = document.getElementById("kiosk-idle-warning");
  if (!dialog) { return; }
  var idleMs = parseInt(dialog.getAttribute("data-idle-seconds"), 10) * 1000;
  var warnMs = parseInt(dialog.getAttribute("data-warning-seconds"), 10) * 1000;
  var pingUrl = dialog.getAttribute("data-ping-url");
  var countdown = document.getElementById("kiosk-idle-countdown");
  var live = document.getElementById("kiosk-live");
  var moreForm = document.getElementById("kiosk-more-time-form");
  var resetForm = document.getElementById("kiosk-reset-form");
  var idleTimer = null;
  var tickTimer = null;
  var deadline = 0;
  var lastPing = Date.now();
  var returnFocus = null;

  function clearBrowserData() {
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be disabled */ }
    try { window.localStorage.clear(); } catch (e) { /* storage may be disabled */ }
  }

  function csrf(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function ping() {
    lastPing = Date.now();
    var body = new FormData(moreForm);
    return fetch(pingUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Kiosk-Ping": "1", "X-CSRFToken": csrf(moreForm) }
    }).then(function (response) {
      if (response.redirected || (response.status !== 204 && response.status !== 200)) { reset(); }
    }).catch(function () { /* the server decides on the next request */ });
  }

  function seconds(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    return s + (s === 1 ? " second" : " seconds");
  }

  function tick() {
    var left = deadline - Date.now();
    countdown.textContent = seconds(left);
    if (left <= 0) { reset(); }
  }

  function showWarning() {
    returnFocus = document.activeElement;
    deadline = Date.now() + warnMs;
    countdown.textContent = seconds(warnMs);
    dialog.hidden = false;
    document.documentElement.classList.add("portal-kiosk--warning");
    dialog.focus();
    live.textContent = "Are you still there? This screen will be cleared in " + seconds(warnMs) +
      ". Choose I need more time to carry on.";
    tickTimer = window.setInterval(tick, 1000);
  }

  function hideWarning() {
    window.clearInterval(tickTimer);
    dialog.hidden = true;
    document.documentElement.classList.remove("portal-kiosk--warning");
    live.textContent = "";
    if (returnFocus && returnFocus.focus) { returnFocus.focus(); }
  }

  function restart() {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(showWarning, idleMs);
  }

  function reset() {
    window.clearInterval(tickTimer);
    window.clearTimeout(idleTimer);
    clearBrowserData();
    resetForm.submit();
  }

  function activity() {
    if (!dialog.hidden) { return; }
    restart();
    if (Date.now() - lastPing > Math.min(30000, idleMs / 2)) { ping(); }
  }

  moreForm.addEventListener("submit", function (event) {
    event.preventDefault();
    hideWarning();
    restart();
    ping();
  });
  resetForm.addEventListener("submit", clearBrowserData);
  document.querySelectorAll("[data-kiosk-start-again]").forEach(function (button) {
    button.form.addEventListener("submit", clearBrowserData);
  });
  dialog.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") { return; }
    var focusable = dialog.querySelectorAll("button");
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
  });
  ["keydown", "pointerdown", "input", "wheel", "touchstart"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  document.querySelectorAll("form").forEach(function (form) { form.setAttribute("autocomplete", "off"); });
  if (new URLSearchParams(window.location.search).has("ended")) { clearBrowserData(); }
  restart();
})();
