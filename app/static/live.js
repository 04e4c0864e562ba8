// Live pages (docs/live.md). The page's <body sse-connect> holds one Server-Sent Events
// stream; each live fragment fetches itself again when its topic arrives
// (hx-trigger="sse:<topic>, live-refresh") and says in data-live how often it would poll.
// This file keeps those fragments right when the push cannot: after the stream comes back
// (a server restart, a network blip) every fragment fetches itself once, which catches up
// on whatever changed meanwhile; while the stream is refused or down they poll, each at its
// own data-live interval (0: never). A tab left hidden for data-live-hidden seconds lets its
// stream go (browsers hold 6 connections a host over HTTP/1.1: background tabs' streams
// would keep the next tab from loading) and, shown again, opens it and catches up.
//
// Two ways a push could be lost, which a page would then not show until the next change:
// - htmx swaps an answer in, then processes the new element (its sse listeners, its
//   triggers) when it settles, 20 ms later or more on a busy page: a push arriving between
//   reached neither the old element nor the new one. Settling at once leaves no such gap
//   (no page here animates a settle).
// - A fragment asked to fetch itself while its own fetch is on its way (a push, the
//   catch-up, a poll): htmx would queue the second fetch on the element and drop it when
//   the answer replaces the element (hx-swap="outerHTML"), though that answer may have been
//   rendered before the change the push told of. It fetches itself again once the answer is
//   in.
(function () {
  "use strict";
  htmx.config.defaultSettleDelay = 0;
  var opened = false;
  var ticker = null;
  var lastPoll = {};
  var again = {};  // key -> true: fetch once the answer on its way is in
  var failures = {};  // key -> failed fetches in a row
  var stream = null;
  var pauseTimer = null;
  var paused = false;

  // The sse extension opens its streams through this hook: keep the page's, to close it.
  var open = htmx.createEventSource;
  htmx.createEventSource = function (url) {
    stream = open(url);
    return stream;
  };

  function fragments() { return document.querySelectorAll("[data-live]"); }

  function key(el) { return el.id || el.getAttribute("hx-get"); }

  function isFragment(el) { return el instanceof Element && el.hasAttribute("data-live"); }

  function fetchAgain(el) {
    if (again[key(el)]) {
      delete again[key(el)];
      htmx.trigger(el, "live-refresh");
    }
  }

  function refreshAll() {
    fragments().forEach(function (el) { htmx.trigger(el, "live-refresh"); });
  }

  function tick() {
    var now = Date.now();
    fragments().forEach(function (el) {
      var every = parseFloat(el.getAttribute("data-live")) * 1000;
      if (!every) { return; }
      var name = key(el);
      if (!lastPoll[name]) { lastPoll[name] = now; return; }
      if (now - lastPoll[name] >= every) {
        lastPoll[name] = now;
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
    var reopened = opened;
    opened = true;
    mode("push");
    if (reopened) { refreshAll(); }
  });
  document.addEventListener("htmx:sseError", function () { mode("poll"); });

  function pause() {
    pauseTimer = null;
    // Only an open stream is let go: one that is failing is the extension's to retry.
    if (stream === null || stream.readyState !== EventSource.OPEN) { return; }
    paused = true;
    stream.close();
    mode("paused");
  }

  function resume() {
    paused = false;
    mode("connecting");
    // The extension reopens a closed stream from its error handler (with its back-off,
    // listeners moved to the new stream); its open event then catches the page up.
    stream.onerror(new Event("error"));
  }

  document.addEventListener("visibilitychange", function () {
    var after = parseFloat(document.body.getAttribute("data-live-hidden")) * 1000;
    if (!(after > 0)) { return; }
    if (document.visibilityState === "hidden") {
      if (pauseTimer === null && !paused) { pauseTimer = window.setTimeout(pause, after); }
      return;
    }
    if (pauseTimer !== null) {
      window.clearTimeout(pauseTimer);
      pauseTimer = null;
    }
    if (paused) { resume(); }
  });

  // htmx asks before every request, before it looks for one on its way. A polled panel
  // holding a form is not refreshed while the keyboard is in it: the swap would throw away
  // what the person typed (htmx's trigger filters would say this, but they are evaluated as
  // script, which the pages' Content-Security-Policy forbids).
  document.addEventListener("htmx:confirm", function (evt) {
    var el = evt.target;
    if (el.hasAttribute("data-hold-while-focused") && el.contains(document.activeElement)) {
      evt.preventDefault();
      el.setAttribute("data-held", "");
    } else if (isFragment(el) && el.classList.contains(htmx.config.requestClass)) {
      evt.preventDefault();
      again[key(el)] = true;
    }
  });
  // Once the keyboard has left a panel held meanwhile, it fetches what it missed.
  document.addEventListener("focusout", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-held]");
    if (!el) { return; }
    window.setTimeout(function () {
      if (el.contains(document.activeElement) || !document.body.contains(el)) { return; }
      el.removeAttribute("data-held");
      htmx.trigger(el, "live-refresh");
    }, 0);
  });
  // The answer replaced the fragment: the new one fetches itself.
  document.addEventListener("htmx:load", function (evt) {
    if (isFragment(evt.target)) { fetchAgain(evt.target); }
  });
  // No answer replaced it (an error, the server down): the same one does, once htmx is done.
  // A fetch that failed while pushed to (the server busy, a blip) is asked again, a little
  // later each time, up to 5 times: the page would stay behind until the next change.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var el = evt.detail.elt;
    if (el !== evt.target || !isFragment(el)) { return; }
    var name = key(el);
    if (evt.detail.successful) {
      delete failures[name];
    } else if (document.body.getAttribute("data-live-mode") === "push"
               && (failures[name] || 0) < 5) {
      failures[name] = (failures[name] || 0) + 1;
      again[name] = true;
    }
    if (document.body.contains(el)) {
      window.setTimeout(function () { fetchAgain(el); }, 1000 * (failures[name] || 0));
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
