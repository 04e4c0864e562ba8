// Live pages (docs/live.md). The page's <body sse-connect> holds one Server-Sent Events
// stream; each live fragment fetches itself again when its topic arrives
// (hx-trigger="sse:<topic>, live-refresh") and says in data-live how often it would poll.
// This file keeps those fragments right when the push cannot: after the stream comes back
// (a server restart, a network blip) every fragment fetches itself once, which catches up
// on whatever changed meanwhile; while the stream is refused or down they poll, each at its
// own data-live interval (0: never).
(function () {
  "use strict";
  var opened = false;
  var ticker = null;
  var lastPoll = {};

  function fragments() { return document.querySelectorAll("[data-live]"); }

  function refreshAll() {
    fragments().forEach(function (el) { htmx.trigger(el, "live-refresh"); });
  }

  function tick() {
    var now = Date.now();
    fragments().forEach(function (el) {
      var every = parseFloat(el.getAttribute("data-live")) * 1000;
      if (!every) { return; }
      var key = el.id || el.getAttribute("hx-get");
      if (!lastPoll[key]) { lastPoll[key] = now; return; }
      if (now - lastPoll[key] >= every) {
        lastPoll[key] = now;
        htmx.trigger(el, "live-refresh");
      }
    });
  }

  function mode(name) {
    document.body.setAttribute("data-live-mode", name);
    if (name === "poll" && ticker === null) {
      lastPoll = {};
      ticker = window.setInterval(tick, 500);
    } else if (name === "push" && ticker !== null) {
      window.clearInterval(ticker);
      ticker = null;
    }
  }

  document.addEventListener("htmx:sseOpen", function () {
    var again = opened;
    opened = true;
    mode("push");
    if (again) { refreshAll(); }
  });
  document.addEventListener("htmx:sseError", function () { mode("poll"); });
  // An event that arrives while its fragment's own fetch is in flight is queued on the
  // element that fetch's answer then replaces, and htmx drops it with that element (seen
  // after a restart: the refresh was in flight when the next change was pushed). So when an
  // answer comes, a newer event for the fragment's topics asks once more.
  var lastEvent = {};  // topic -> its newest event
  document.addEventListener("htmx:sseMessage", function (evt) {
    if (evt.detail && evt.detail.type) { lastEvent[evt.detail.type] = evt.detail; }
  });
  function topicsOf(elt) {
    return ((elt.getAttribute("hx-trigger") || "").match(/sse:[\w-]+/g) || [])
      .map(function (t) { return t.slice(4); });
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt, config = evt.detail.requestConfig || {};
    var message = config.triggeringEvent && config.triggeringEvent.detail;
    var seen = {};
    topicsOf(elt).forEach(function (t) { seen[t] = lastEvent[t]; });
    if (message && message.type in seen) { seen[message.type] = message; }
    elt.__liveSeen = seen;
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt, seen = elt.__liveSeen || {};
    var missed = Object.keys(seen).some(function (t) { return lastEvent[t] !== seen[t]; });
    if (missed && elt.id) {
      window.setTimeout(function () {
        var now = document.getElementById(elt.id);
        if (now) { htmx.trigger(now, "live-refresh"); }
      }, 50);
    }
  });
  // A fetch made for an event says back what the event covers ("<topic> <time>"): the
  // server may answer it with a render other pages share (app/live/cache.py).
  document.addEventListener("htmx:configRequest", function (evt) {
    var message = evt.detail.triggeringEvent && evt.detail.triggeringEvent.detail;
    var said = message && typeof message.data === "string" ? message.data.split(" ") : [];
    if (said.length === 2 && /^[0-9.]+$/.test(said[1])) {
      evt.detail.headers["X-POMS-Live-Cover"] = said[1];
    }
  });
})();
