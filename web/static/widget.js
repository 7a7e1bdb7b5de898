// The embeddable widget (/p/{slug}/widget): re-reads itself every few seconds (a 304 while
// nothing changed) and shows the new status. Nothing else runs in the frame.
(function () {
  "use strict";
  var root = document.getElementById("widget");
  if (!root || !window.fetch || !window.DOMParser) return;
  function poll() {
    fetch(location.pathname, { credentials: "omit", cache: "no-cache" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("widget");
      if (fresh && fresh.innerHTML !== root.innerHTML) root.innerHTML = fresh.innerHTML;
    }, function () { /* offline: keep what is shown, try again later */ });
  }
  setInterval(poll, Math.max(2, parseInt(root.dataset.poll, 10) || 30) * 1000);
})();
