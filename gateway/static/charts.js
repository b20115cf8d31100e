// Hand-written SVG line charts (no library): one series of [time, value] points per chart.
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 320, H = 120, PAD = 22;

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Draws `points` ([[ms, number], ...], oldest first) into the <svg> `svg`, scaled to fit.
  function lineChart(svg, points, format) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!points.length) {
      svg.appendChild(el("text", { x: PAD, y: H / 2 }, "no data yet"));
      return;
    }
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const x0 = Math.min(...xs), x1 = Math.max(...xs);
    let y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
    if (y0 === y1) y1 = y0 + 1;
    const sx = (x) => PAD + ((x - x0) / (x1 - x0 || 1)) * (W - 2 * PAD);
    const sy = (y) => H - PAD - ((y - y0) / (y1 - y0)) * (H - 2 * PAD);
    svg.appendChild(el("line", { x1: PAD, y1: sy(0), x2: W - PAD, y2: sy(0) }));
    svg.appendChild(el("text", { x: 2, y: sy(y1) + 3 }, format(y1)));
    svg.appendChild(el("text", { x: 2, y: sy(y0) + 3 }, format(y0)));
    const line = points.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1)).join(" ");
    svg.appendChild(el("polyline", { points: line, "data-points": points.length }));
    for (const p of points) svg.appendChild(el("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2 }));
    const last = points[points.length - 1];
    svg.appendChild(el("text", { x: W - PAD - 40, y: 10, class: "last" }, format(last[1])));
  }

  window.HedgingCharts = { lineChart: lineChart };
})();
