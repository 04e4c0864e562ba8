// The campaign editor's drawing: drag a stage to move it, click two stages to draw a
// dependency. Every change is still a form the server checks (app/blueprints/campaigns/
// editor.py); this file only fills those forms in. No framework, no build step.
(function () {
  "use strict";
  const HALF_W = 90, HALF_H = 24; // app/campaigns/layout.py NODE_WIDTH / 2, NODE_HEIGHT / 2

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

  function place(editor, node) {
    const form = editor.querySelector("#place-form"), positions = {};
    editor.querySelectorAll("#editor-graph g.node").forEach((n) => {
      const at = where(n);
      positions[n.dataset.stage] = [Math.round(at.x), Math.round(at.y)];
    });
    form.elements.stage.value = node.dataset.stage;
    form.elements.positions.value = JSON.stringify(positions);
    htmx.trigger(form, "submit");
  }

  function init(editor) {
    const svg = editor.querySelector("#editor-graph");
    const drawButton = editor.querySelector("#draw-dependency");
    let drawing = null; // null: not drawing; "": pick the parent; a name: pick the child
    let drag = null, keyTimer = null;

    function setDrawing(state) {
      drawing = state;
      drawButton.setAttribute("aria-pressed", state === null ? "false" : "true");
      drawButton.textContent = state === null ? "Draw a dependency"
        : state === "" ? "Click the stage whose files are used (Escape: stop)"
        : "Now click the stage that uses files of " + state + " (Escape: stop)";
      svg.querySelectorAll("g.node").forEach((n) =>
        n.classList.toggle("picked", n.dataset.stage === state));
    }

    function chosen(node) {
      const name = node.dataset.stage;
      if (drawing === "") { setDrawing(name); return; }
      if (drawing) {
        const form = editor.querySelector("#dependency-form");
        form.elements.parent.value = drawing;
        form.elements.child.value = name;
        editor.querySelector("#add-dependency").open = true;
        setDrawing(null);
        editor.querySelector("#dependency-pattern").focus();
        return;
      }
      const panel = editor.querySelector(`details.stage-panel[data-stage="${CSS.escape(name)}"]`);
      if (panel) { panel.open = true; panel.querySelector("summary").focus(); }
    }

    drawButton.addEventListener("click", () => setDrawing(drawing === null ? "" : null));
    svg.querySelectorAll("g.node").forEach((node) => {
      node.addEventListener("pointerdown", (event) => {
        const at = where(node), pt = svgPoint(svg, event);
        drag = { node, dx: pt.x - at.x, dy: pt.y - at.y, moved: false, start: pt };
        node.setPointerCapture(event.pointerId);
      });
      node.addEventListener("pointermove", (event) => {
        if (!drag || drag.node !== node) return;
        const pt = svgPoint(svg, event);
        if (Math.hypot(pt.x - drag.start.x, pt.y - drag.start.y) > 3) drag.moved = true;
        if (!drag.moved) return;
        node.setAttribute("transform", `translate(${pt.x - drag.dx} ${pt.y - drag.dy})`);
        redrawEdges(svg);
      });
      node.addEventListener("pointerup", () => {
        if (!drag || drag.node !== node) return;
        const moved = drag.moved;
        drag = null;
        if (moved) place(editor, node); else chosen(node);
      });
      node.addEventListener("keydown", (event) => {
        const step = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[event.key];
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); chosen(node); return; }
        if (!step) return;
        event.preventDefault();
        const at = where(node);
        node.setAttribute("transform", `translate(${at.x + step[0]} ${at.y + step[1]})`);
        redrawEdges(svg);
        clearTimeout(keyTimer);
        keyTimer = setTimeout(() => place(editor, node), 500);
      });
    });
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && drawing !== null) { setDrawing(null); drawButton.focus(); }
    });

    // Keyboard focus goes back where the person was: the panel they changed, the form
    // they used, or the problem that stopped the change.
    const focus = editor.dataset.focus, open = editor.dataset.open;
    let target = null;
    if (focus === "problems") target = editor.querySelector("#problems");
    else if (focus === "place") target = svg.querySelector(`g.node[data-stage="${CSS.escape(open)}"]`);
    else if (open) {
      const panel = editor.querySelector(`details.stage-panel[data-stage="${CSS.escape(open)}"]`);
      if (panel) { panel.open = true; target = panel.querySelector("summary"); }
    }
    if (!target && focus) {
      target = editor.querySelector("#" + CSS.escape(focus));
      if (target && target.tagName === "DETAILS") { target.open = true; target = target.querySelector("summary"); }
    }
    if (target && document.activeElement !== target) target.focus();
  }

  htmx.onLoad((element) => {
    const editor = element.id === "editor" ? element : element.querySelector("#editor");
    if (editor) init(editor);
  });
})();
