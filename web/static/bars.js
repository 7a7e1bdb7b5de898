// Daily bars: drawn from each list's compact attributes (one letter per day for the status,
// the day's availability, how many events touched it); a day's events are read on demand when
// its tooltip opens. One tab stop per row (today), arrow keys move between days, Home/End jump.
(function () {
  "use strict";
  var STATUS = { o: "OPERATIONAL", d: "DEGRADED", p: "PARTIAL_OUTAGE", f: "FULL_OUTAGE",
                 m: "UNDER_MAINTENANCE" };
  var WORDS = {
    OPERATIONAL: "Operational", DEGRADED: "Degraded performance", PARTIAL_OUTAGE: "Partial outage",
    FULL_OUTAGE: "Major outage", UNDER_MAINTENANCE: "Under maintenance"
  };
  var KINDS = { INCIDENT: "Incident", MAINTENANCE: "Maintenance" };
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var root = document.getElementById("status-page");
  var slug = root ? root.dataset.slug : "";
  // The page's language (data-words, from the server): English above when absent.
  var T = {};
  try { T = JSON.parse((root && root.dataset.words) || "{}"); } catch (e) { T = {}; }
  if (T.status) WORDS = T.status;
  if (T.kind) KINDS = T.kind;
  var NO_DATA = T.noData || "No data";

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function label(day) { // like the server's "%a %d %b %Y" (or its locale's full date)
    if (T.locale && T.locale !== "en" && window.Intl) {
      return new Intl.DateTimeFormat(T.locale, { year: "numeric", month: "long", day: "numeric",
        weekday: "long", timeZone: "UTC" }).format(day);
    }
    return DAYS[day.getUTCDay()] + " " + two(day.getUTCDate()) + " " + MONTHS[day.getUTCMonth()] +
      " " + day.getUTCFullYear();
  }

  function iso(day) {
    return day.getUTCFullYear() + "-" + two(day.getUTCMonth() + 1) + "-" + two(day.getUTCDate());
  }

  function percent(code) { // "" is 100%, "-" no data, else floor(ratio × 10,000)
    if (code === "-") return NO_DATA;
    if (code === "") return "100%";
    return (Number(code) / 100).toFixed(2) + "%";
  }

  function span(cls, text) {
    var el = document.createElement("span");
    if (cls) el.className = cls;
    el.textContent = text;
    return el;
  }

  function draw(list) {
    var days = list.dataset.days || "";
    if (!days || list.dataset.drawn) return;
    list.dataset.drawn = "1";
    var ratios = (list.dataset.ratios || "").split(",");
    var counts = list.dataset.events || "";
    var parts = (list.dataset.first || "").split("-").map(Number);
    var first = Date.UTC(parts[0], parts[1] - 1, parts[2]);
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < days.length; i++) {
      var status = STATUS[days.charAt(i)] || "";
      var day = new Date(first + i * 86400000);
      var bar = document.createElement("li");
      bar.className = "bar s-" + (status ? status.toLowerCase().replace(/_/g, "-") : "none") +
        (i === days.length - 1 ? " today" : "");
      bar.dataset.date = iso(day);
      bar.dataset.status = status;
      bar.dataset.events = counts.charAt(i) || "0";
      var tip = span("tip", "");
      tip.setAttribute("role", "tooltip");
      var strong = document.createElement("strong");
      strong.textContent = label(day);
      tip.appendChild(strong);
      tip.appendChild(span("", (WORDS[status] || NO_DATA) + " · " + percent(ratios[i] || "") +
        " available"));
      bar.appendChild(tip);
      fragment.appendChild(bar);
    }
    list.replaceChildren(fragment); // the bare days the server sent, now with their tooltips
  }

  function details(bar) {
    // the events that touched this day, read once when its tooltip first opens
    if (bar.dataset.events === "0" || bar.dataset.loaded) return;
    bar.dataset.loaded = "1";
    var list = bar.parentElement;
    var url = "/p/" + encodeURIComponent(slug) + "/bars/" + encodeURIComponent(list.dataset.item) +
      "/" + bar.dataset.date;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (found) {
        if (!found) { delete bar.dataset.loaded; return; }
        var tip = bar.querySelector(".tip");
        found.events.forEach(function (ev) {
          tip.appendChild(span("tip-event", (KINDS[ev.kind] || "Event") + ": " + ev.title));
        });
      })
      .catch(function () { delete bar.dataset.loaded; });
  }

  function setup(list) {
    draw(list);
    var bars = Array.prototype.slice.call(list.querySelectorAll(".bar"));
    bars.forEach(function (bar, i) { bar.tabIndex = i === bars.length - 1 ? 0 : -1; });
  }

  document.querySelectorAll(".bars").forEach(setup);
  ["focusin", "mouseover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var bar = event.target.closest && event.target.closest(".bars .bar");
      if (bar) details(bar);
    });
  });
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
