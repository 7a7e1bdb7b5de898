// The theme: the visitor's system preference (prefers-color-scheme) unless they chose one with
// the header's toggle, remembered in localStorage. Loaded in <head> so the page never flashes.
(function () {
  "use strict";
  var KEY = "heliograph-theme", root = document.documentElement;
  try {
    var saved = localStorage.getItem(KEY);
    if (saved === "dark" || saved === "light") root.setAttribute("data-theme", saved);
  } catch (e) { /* no storage: the system preference alone */ }
  function dark() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) return chosen === "dark";
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    function sync() { button.setAttribute("aria-pressed", dark() ? "true" : "false"); }
    button.hidden = false;
    sync();
    button.addEventListener("click", function () {
      var theme = dark() ? "light" : "dark";
      root.setAttribute("data-theme", theme);
      try { localStorage.setItem(KEY, theme); } catch (e) { /* this page only */ }
      sync();
    });
  });
})();
