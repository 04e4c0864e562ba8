// The campaign editor's drawing: drag a stage to move it, click two stages to draw a
// dependency. Every change is still a form the server checks (app/blueprints/campaigns/
// editor.py); this file only fills those forms in. No framework, no build step. Listeners
// sit on the document, so a freshly swapped editor works from its first moment.
(function () {
  "use strict";
  const HALF_W = 90, HALF_H = 24; // app/campaigns/layout.py NODE_WIDTH / 2, NODE_HEIGHT / 2
  let drawing = null; // null: not drawing; "": pick the parent; a name: pick the child
  let drag = null, keyTimer = null;

  function where(node) {
    const m = /translate\(([-\d.e]+)[ ,]+([-\d.e]+)\)/.exec(node.getAttribute("transform"));
    return { x: parseFloat(m[1]), y: parseFloat(m[2]) };
  }

  function svgPoint(svg, event) {
    const pt = svg.createSVGPoint();
    pt.x = event.clientX;
    pt.y = event.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }

  function boxEdge(c, dx, dy) {
    if (dx === 0 && dy === 0) return c;
    const s = Math.min(dx ? HALF_W / Math.abs(dx) : Infinity, dy ? HALF_H / Math.abs(dy) : Infinity);
    return { x: c.x + dx * s, y: c.y + dy * s };
  }

  function redrawEdges(svg) {
    const at = {};
    svg.querySelectorAll("g.node").forEach((n) => { at[n.dataset.stage] = where(n); });
    svg.querySelectorAll("g.edge").forEach((e) => {
      const p = at[e.dataset.parent], c = at[e.dataset.child];
      if (!p || !c) return;
      const a = boxEdge(p, c.x - p.x, c.y - p.y), b = boxEdge(c, p.x - c.x, p.y - c.y);
      const line = e.querySelector("line"), text = e.querySelector("text");
      line.setAttribute("x1", a.x); line.setAttribute("y1", a.y);
      line.setAttribute("x2", b.x); line.setAttribute("y2", b.y);
      text.setAttribute("x", (a.x + b.x) / 2); text.setAttribute("y", (a.y + b.y) / 2 - 5);
    });
  }

  function editorOf(element) { return element.closest("#editor"); }

  function nodeOf(event) {
    const node = event.target.closest && event.target.closest("#editor-graph g.node");
    return node || null;
  }

  function place(node) {
    const editor = editorOf(node), form = editor.querySelector("#place-form"), positions = {};
    editor.querySelectorAll("#editor-graph g.node").forEach((n) => {
      const at = where(n);
      positions[n.dataset.stage] = [Math.round(at.x), Math.round(at.y)];
    });
    form.elements.stage.value = node.dataset.stage;
    form.elements.positions.value = JSON.stringify(positions);
    htmx.trigger(form, "submit");
  }

  function setDrawing(editor, state) {
    drawing = state;
    const button = editor.querySelector("#draw-dependency");
    button.setAttribute("aria-pressed", state === null ? "false" : "true");
    button.textContent = state === null ? "Draw a dependency"
      : state === "" ? "Click the stage whose files are used (Escape: stop)"
      : "Now click the stage that uses files of " + state + " (Escape: stop)";
    editor.querySelectorAll("#editor-graph g.node").forEach((n) =>
      n.classList.toggle("picked", n.dataset.stage === state));
  }

  function chosen(node) {
    const editor = editorOf(node), name = node.dataset.stage;
    if (drawing === "") { setDrawing(editor, name); return; }
    if (drawing) {
      const form = editor.querySelector("#dependency-form");
      form.elements.parent.value = drawing;
      form.elements.child.value = name;
      editor.querySelector("#add-dependency").open = true;
      setDrawing(editor, null);
      editor.querySelector("#dependency-pattern").focus();
      return;
    }
    const panel = editor.querySelector(`details.stage-panel[data-stage="${CSS.escape(name)}"]`);
    if (panel) { panel.open = true; panel.querySelector("summary").focus(); }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#draw-dependency");
    if (button) setDrawing(editorOf(button), drawing === null ? "" : null);
    // An arrow leads to its line in the list of dependencies, and its remove button.
    const edge = event.target.closest && event.target.closest("#editor-graph g.edge");
    if (edge) {
      const editor = editorOf(edge);
      const item = editor.querySelector(`ul.dependencies li[data-parent="${CSS.escape(edge.dataset.parent)}"][data-child="${CSS.escape(edge.dataset.child)}"]`);
      if (item) {
        editor.querySelector("#add-dependency").open = true;
        item.querySelector("button").focus();
      }
    }
  });
  document.addEventListener("pointerdown", (event) => {
    const node = nodeOf(event);
    if (!node) return;
    const svg = node.ownerSVGElement, at = where(node), pt = svgPoint(svg, event);
    drag = { node, svg, dx: pt.x - at.x, dy: pt.y - at.y, moved: false, start: pt };
    event.preventDefault();
  });
  document.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const pt = svgPoint(drag.svg, event);
    if (Math.hypot(pt.x - drag.start.x, pt.y - drag.start.y) > 3) drag.moved = true;
    if (!drag.moved) return;
    drag.node.setAttribute("transform", `translate(${pt.x - drag.dx} ${pt.y - drag.dy})`);
    redrawEdges(drag.svg);
  });
  document.addEventListener("pointerup", () => {
    if (!drag) return;
    const { node, moved } = drag;
    drag = null;
    if (moved) place(node); else { node.focus(); chosen(node); }
  });
  document.addEventListener("keydown", (event) => {
    const node = nodeOf(event);
    if (event.key === "Escape" && drawing !== null) {
      const editor = document.getElementById("editor");
      setDrawing(editor, null);
      editor.querySelector("#draw-dependency").focus();
      return;
    }
    if (!node) return;
    const step = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[event.key];
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); chosen(node); return; }
    if (!step) return;
    event.preventDefault();
    const at = where(node);
    node.setAttribute("transform", `translate(${at.x + step[0]} ${at.y + step[1]})`);
    redrawEdges(node.ownerSVGElement);
    clearTimeout(keyTimer);
    keyTimer = setTimeout(() => place(node), 500);
  });

  // Keyboard focus goes back where the person was: the stage they moved or changed, the
  // form they used, or the problem that stopped the change.
  function restoreFocus(editor) {
    drawing = null;
    const focus = editor.dataset.focus, open = editor.dataset.open;
    const stageSelector = (kind) => `${kind}[data-stage="${CSS.escape(open)}"]`;
    let target = null;
    if (focus === "problems") target = editor.querySelector("#problems");
    else if (focus === "place" && open) target = editor.querySelector(stageSelector("#editor-graph g.node"));
    else if (open) {
      const panel = editor.querySelector(stageSelector("details.stage-panel"));
      if (panel) { panel.open = true; target = panel.querySelector("summary"); }
    }
    if (!target && focus && focus !== "place") {
      target = editor.querySelector("#" + CSS.escape(focus));
      if (target && target.tagName === "DETAILS") {
        target.open = true;
        target = target.querySelector("summary");
      }
    }
    if (target && document.activeElement !== target) target.focus();
  }

  htmx.onLoad((element) => {
    const editor = element.id === "editor" ? element : element.querySelector("#editor");
    if (editor) restoreFocus(editor);
  });
})();
