// Live status page: a small graphql-transport-ws client of our own. It subscribes to
// pageUpdates, applies each change in place, shows "Live" / "Reconnecting…", reconnects with
// backoff, and resynchronises from a fresh snapshot after a sequence gap or a reconnect.
(function () {
  "use strict";
  var root = document.getElementById("status-page");
  if (!root || !window.WebSocket) return;
  var slug = root.dataset.slug;
  var sequence = Number(root.dataset.sequence);
  var indicator = document.getElementById("live");
  var DOCUMENT =
    "subscription Live($slug: String!) { pageUpdates(slug: $slug) { sequence kind componentIds " +
    "page { sequence status statusDescription components { id status } groups { id status } } } }";
  var WORDS = {
    OPERATIONAL: "Operational", DEGRADED: "Degraded performance", PARTIAL_OUTAGE: "Partial outage",
    FULL_OUTAGE: "Major outage", UNDER_MAINTENANCE: "Under maintenance"
  };
  // The page's language (data-words, from the server): English above when absent.
  var T = {};
  try { T = JSON.parse(root.dataset.words || "{}"); } catch (e) { T = {}; }
  if (T.status) WORDS = T.status;
  var RANK = { OPERATIONAL: 0, DEGRADED: 1, UNDER_MAINTENANCE: 2, PARTIAL_OUTAGE: 3, FULL_OUTAGE: 4 };
  var socket = null, current = null, nextId = 1, attempt = 0, retryTimer = null;
  var lastHeard = Date.now();
  var SILENCE = 45000; // no message, not even a pong, for this long: the link is dead

  function cls(status) { return "s-" + String(status || "none").toLowerCase().replace(/_/g, "-"); }

  function show(state) {
    indicator.hidden = false;
    indicator.textContent = state === "live" ? (T.live || "Live") : (T.reconnecting || "Reconnecting…");
    indicator.classList.toggle("on", state === "live");
    root.dataset.live = state;
  }

  function setClass(el, status) {
    el.className = el.className.replace(/\bs-[a-z-]+\b/g, "").trim() + " " + cls(status);
  }

  function setBadge(container, status) {
    if (!container) return;
    var badge = container.querySelector(".badge");
    if (!badge || badge.dataset.status === status) return;
    setClass(badge, status);
    badge.dataset.status = status;
    badge.querySelector(".word").textContent = WORDS[status] || status;
  }

  function markToday(container, status) {
    // today's bar shows the worst status of the day so far
    var bar = container && container.querySelector(".bars .bar.today");
    if (!bar || !(status in RANK)) return;
    var shown = bar.dataset.status;
    if (!shown || RANK[status] > RANK[shown]) { setClass(bar, status); bar.dataset.status = status; }
  }

  function applyPage(page) {
    var banner = document.getElementById("banner");
    setClass(banner, page.status);
    banner.querySelector(".banner-text").textContent =
      (T.description && T.description[page.statusDescription]) || page.statusDescription;
    var known = true;
    var hidden = (root.dataset.hidden || "").split(" ").filter(Boolean);
    page.components.forEach(function (c) {
      var row = document.getElementById("component-" + c.id);
      if (!row) {
        // shown only while degraded: still quiet is fine, anything else needs the server
        if (hidden.indexOf(c.id) < 0 || c.status !== "OPERATIONAL") known = false;
        return;
      }
      setBadge(row.querySelector(".row"), c.status);
      markToday(row, c.status);
    });
    page.groups.forEach(function (g) {
      var row = document.getElementById("group-" + g.id);
      if (!row) return; // a group all of whose components are quiet
      setBadge(row.querySelector("summary"), g.status);
      markToday(row.querySelector("details"), g.status);
    });
    var shown = root.querySelectorAll(".components [data-component-id]").length;
    if (!known || shown + hidden.length !== page.components.length) reloadPage();
  }

  function swap(html, ids) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    ids.forEach(function (id) {
      var fresh = doc.getElementById(id), old = document.getElementById(id);
      if (fresh && old) old.replaceWith(fresh);
    });
    var events = document.getElementById("events-live"); // the title names an active incident
    if (events && events.dataset.title) document.title = events.dataset.title;
  }

  function setIcon() {
    // the favicon is a dot in the page's status colour: fetch this sequence's
    var icon = document.querySelector('link[rel="icon"]');
    if (icon) icon.href = "/p/" + encodeURIComponent(slug) + "/favicon.svg?v=" + sequence;
  }

  function refreshEvents() {
    return fetch("/p/" + encodeURIComponent(slug) + "/live?sequence=" + sequence, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html) swap(html, ["events-live", "recent-live"]); })
      .catch(function () { /* the next change or reconnect fetches again */ });
  }

  function reloadPage() {
    // components were added or removed: take the server's whole rendering of the page
    return fetch(location.pathname + "?sequence=" + sequence, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        swap(html, ["banner", "events-live", "recent-live"]);
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector(".components"), old = root.querySelector(".components");
        if (fresh && old) old.replaceWith(fresh);
        var freshRoot = doc.getElementById("status-page");
        if (freshRoot) root.dataset.hidden = freshRoot.dataset.hidden || "";
        if (window.heliographBars) fresh.querySelectorAll(".bars").forEach(window.heliographBars.setup);
      })
      .catch(function () {});
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function subscribe() {
    current = String(nextId++);
    send({ id: current, type: "subscribe", payload: { query: DOCUMENT, variables: { slug: slug } } });
  }

  function resync() {
    // a gap: end this stream and start another, whose first message is a snapshot
    if (current) send({ id: current, type: "complete" });
    subscribe();
  }

  function onUpdate(update) {
    if (update.kind === "SNAPSHOT") {
      var changed = update.sequence !== sequence;
      sequence = update.sequence;
      applyPage(update.page);
      if (changed) { refreshEvents(); setIcon(); }
      show("live");
      return;
    }
    if (update.sequence <= sequence) return; // already applied
    if (update.sequence !== sequence + 1) { resync(); return; }
    sequence = update.sequence;
    root.dataset.sequence = String(sequence);
    applyPage(update.page);
    setIcon();
    if (update.kind === "PAGE_EDITED") reloadPage();
    else if (update.kind !== "COMPONENT_STATUS") refreshEvents();
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + location.host + "/graphql", "graphql-transport-ws");
    } catch (e) { show("reconnecting"); scheduleReconnect(); return; }
    var mine = socket;
    socket.onopen = function () {
      lastHeard = Date.now();
      send({ type: "connection_init", payload: {} });
    };
    socket.onmessage = function (event) {
      lastHeard = Date.now();
      var message = JSON.parse(event.data);
      if (message.type === "connection_ack") { attempt = 0; subscribe(); }
      else if (message.type === "ping") send({ type: "pong" });
      else if (message.id !== current) return;
      else if (message.type === "next") {
        var data = message.payload && message.payload.data;
        if (data && data.pageUpdates) onUpdate(data.pageUpdates);
        else mine.close();
      } else if (message.type === "error" || message.type === "complete") {
        mine.close(); // the server ended the stream: start again from a snapshot
      }
    };
    socket.onclose = function (event) {
      if (socket !== mine) return;
      // 4403: the credentials this page was shown with were revoked or changed (sign-out,
      // deactivation, roles): show the page as they stand now, not a stale internal one
      if (event.code === 4403) { location.reload(); return; }
      current = null;
      show("reconnecting");
      scheduleReconnect();
    };
  }

  // a link that died without a close frame (sleep, network change) is noticed by its silence
  setInterval(function () {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENCE) {
      var dead = socket;
      socket = null; // its close event, whenever it comes, is ignored
      current = null;
      try { dead.close(); } catch (e) { /* already closing */ }
      show("reconnecting");
      scheduleReconnect();
      return;
    }
    send({ type: "ping" });
  }, 15000);

  document.addEventListener("visibilitychange", function () {
    // a tab woken from sleep may hold a dead socket: check it now, not at the next timeout
    if (!document.hidden && (!socket || socket.readyState > 1)) {
      if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
      connect();
    }
  });
  connect();
})();
