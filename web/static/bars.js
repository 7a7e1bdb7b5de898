// Daily bars: one tab stop per row (today), arrow keys move between days, Home/End jump.
(function () {
  "use strict";
  function setup(list) {
    var bars = Array.prototype.slice.call(list.querySelectorAll(".bar"));
    bars.forEach(function (bar, i) { bar.tabIndex = i === bars.length - 1 ? 0 : -1; });
  }
  document.querySelectorAll(".bars").forEach(setup);
  document.addEventListener("keydown", function (event) {
    var bar = event.target.closest && event.target.closest(".bars .bar");
    if (!bar) return;
    var bars = Array.prototype.filter.call(bar.parentElement.children, function (b) {
      return b.offsetParent !== null; // skip days hidden on narrow screens
    });
    var at = bars.indexOf(bar), next = null;
    if (event.key === "ArrowLeft") next = bars[at - 1];
    else if (event.key === "ArrowRight") next = bars[at + 1];
    else if (event.key === "Home") next = bars[0];
    else if (event.key === "End") next = bars[bars.length - 1];
    if (!next) return;
    event.preventDefault();
    bar.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
  window.heliographBars = { setup: setup };
})();
