// Search within a job log without reloading (results/job_log.html).
// The server finds the matching lines in the whole log (GET data-search-url?q=, JSON) and
// renders the window of lines around one, matches marked (GET data-page-url?q=&line= with
// HX-Target: log-window). Enter or Next goes to the next match, Shift+Enter or Previous
// to the one before, Escape clears the search. Without JavaScript the form reloads the
// page at the first match.
(function () {
  "use strict";
  const view = document.getElementById("log-view");
  if (!view) return;
  const form = view.querySelector("form.log-search");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const status = document.getElementById("log-search-status");
  const prev = document.getElementById("log-prev");
  const next = document.getElementById("log-next");
  const windowBox = document.getElementById("log-window");
  const pageUrl = view.dataset.pageUrl;
  const searchUrl = view.dataset.searchUrl;

  let query = view.dataset.query || "";
  let lines = JSON.parse(view.dataset.lines || "[]");
  let matched = Number(view.dataset.matched || 0);
  let index = lines.indexOf(Number(view.dataset.centre));
  let shownQuery = query; // the query the lines on the page are marked for
  let pending = 0;

  function say(text, isError) {
    status.textContent = "";
    const span = document.createElement("span");
    if (isError) span.className = "error";
    span.textContent = text;
    status.appendChild(span);
  }

  function describe() {
    prev.disabled = next.disabled = lines.length === 0;
    if (!query) return say("");
    if (matched === 0) return say("No line holds \u201c" + query + "\u201d.");
    let text = (index >= 0 ? (index + 1) + " of " : "") + matched + " line" +
      (matched === 1 ? "" : "s") + " hold \u201c" + query + "\u201d";
    if (index >= 0) text += " (line " + lines[index] + ")";
    if (matched > lines.length) text += "; the first " + lines.length + " can be visited";
    say(text);
  }

  function url(base, params) {
    const found = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== "" && value !== null && value !== undefined) found.set(key, value);
    }
    const text = found.toString();
    return text ? base + "?" + text : base;
  }

  function markCurrent(line) {
    for (const old of windowBox.querySelectorAll(".line.current")) old.classList.remove("current");
    const target = document.getElementById("line-" + line);
    if (!target) return false;
    target.classList.add("current");
    target.scrollIntoView({ block: "center" });
    return true;
  }

  // Each move takes a ticket: an answer for a move that a newer one overtook (answers can
  // come back out of order on a busy server) changes nothing, nor marks its line.
  async function loadWindow(line, ticket = ++pending) {
    const response = await fetch(url(pageUrl, { q: query, line: line }), {
      headers: { "HX-Request": "true", "HX-Target": "log-window" },
      credentials: "same-origin",
    });
    if (ticket !== pending) return false;
    if (!response.ok) {
      say("The log could not be read (" + response.status + ").", true);
      return false;
    }
    const html = await response.text();
    if (ticket !== pending) return false;
    windowBox.innerHTML = html; // the server's page, escaped by Jinja
    shownQuery = query;
    if (window.htmx) window.htmx.process(windowBox);
    return true;
  }

  async function go(to) {
    if (lines.length === 0) return;
    const ticket = ++pending;
    index = (to + lines.length) % lines.length;
    const line = lines[index];
    history.replaceState(null, "", url(pageUrl, { q: query, line: line }));
    describe();
    if (shownQuery !== query || !markCurrent(line)) {
      if (await loadWindow(line, ticket)) markCurrent(line);
    }
  }

  async function search() {
    const wanted = input.value.replace(/[\r\n]/g, "");
    if (wanted === query && lines.length) return go(index + 1);
    query = wanted;
    lines = [];
    matched = 0;
    index = -1;
    if (!query.trim()) {
      query = "";
      describe();
      history.replaceState(null, "", pageUrl);
      return loadWindow(Number(view.dataset.centre) || 1);
    }
    say("Searching\u2026");
    const ticket = ++pending;
    const response = await fetch(url(searchUrl, { q: query }), { credentials: "same-origin" });
    if (ticket !== pending) return;
    const data = await response.json().catch(() => ({ error: "no answer" }));
    if (!response.ok) return say(data.error || "The search failed.", true);
    lines = data.lines;
    matched = data.matched;
    if (data.no_log) return say("This job has no log (yet).");
    if (!lines.length) {
      describe();
      return loadWindow(Number(view.dataset.centre) || 1);
    }
    // Start from where the person is reading: the first match at or after that line.
    const box = document.getElementById("log-lines");
    const from = box ? Number(box.dataset.first) : 1;
    const after = lines.findIndex((n) => n >= from);
    return go(after >= 0 ? after : 0);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.shiftKey) {
      event.preventDefault();
      if (input.value === query) go(index - 1); else search();
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.value = "";
      search();
    }
  });
  prev.addEventListener("click", () => go(index - 1));
  next.addEventListener("click", () => go(index + 1));
  describe();
  if (index >= 0) markCurrent(lines[index]);
})();
