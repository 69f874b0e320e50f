// Spend (bars), cost per lead (line, same currency axis) and leads (line, right axis) per day, as inline SVG.

const SVG = "http://www.w3.org/2000/svg";
const PAD = { left: 48, right: 36, top: 16, bottom: 34 };

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (parent) parent.appendChild(node);
  return node;
}

function label(parent, x, y, text, anchor, cls) {
  const node = el("text", { x, y, "text-anchor": anchor, class: cls }, parent);
  node.textContent = text;
  return node;
}

// The smallest max of the form 4 × {1, 2, 5} × 10^k at or above `value`: four round grid steps.
function niceMax(value) {
  if (value <= 0) return 4;
  const quarter = value / 4;
  const power = 10 ** Math.floor(Math.log10(quarter));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= quarter);
  return 4 * step;
}

function line(parent, points, cls) {
  const drawn = points.filter((p) => p !== null);
  if (drawn.length === 0) return;
  el("polyline", { points: drawn.map(([x, y]) => `${x},${y}`).join(" "), class: cls }, parent);
  for (const [x, y, title] of drawn) el("circle", { cx: x, cy: y, r: 3, class: cls }, parent).appendChild(titled(title));
}

function titled(text) {
  const node = document.createElementNS(SVG, "title");
  node.textContent = text;
  return node;
}

export function metricsChart(days, currency, width) {
  const W = Math.max(320, Math.round(width || 640));
  const H = Math.min(300, Math.max(200, Math.round(W * 0.45)));
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "spend, leads and cost per lead per day" });
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const money = niceMax(Math.max(0, ...days.map((d) => Math.max(d.spend, d.cost_per_lead || 0))));
  const count = Math.max(4, niceMax(Math.max(0, ...days.map((d) => d.leads))));
  const slot = plotW / Math.max(days.length, 1);
  const xOf = (i) => PAD.left + slot * i + slot / 2;
  const yMoney = (v) => PAD.top + plotH - (v / money) * plotH;
  const yCount = (v) => PAD.top + plotH - (v / count) * plotH;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + (plotH * i) / 4;
    el("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }, svg);
    label(svg, PAD.left - 6, y + 4, String(+(money * (1 - i / 4)).toPrecision(4)), "end", "axis");
    label(svg, W - PAD.right + 6, y + 4, String(+(count * (1 - i / 4)).toPrecision(4)), "start", "axis");
  }
  days.forEach((d, i) => {
    const top = yMoney(d.spend);
    const bar = el("rect", { x: xOf(i) - slot * 0.35, y: top, width: slot * 0.7, height: PAD.top + plotH - top, class: "bar" }, svg);
    bar.appendChild(titled(`${d.date}: spend ${d.spend} ${currency}`));
    const every = Math.ceil(days.length / Math.max(2, Math.floor(W / 80)));
    if (i % every === 0) label(svg, xOf(i), H - PAD.bottom + 16, d.date.slice(5), "middle", "axis");
  });
  line(svg, days.map((d, i) => [xOf(i), yCount(d.leads), `${d.date}: ${d.leads} leads`]), "leads");
  line(svg, days.map((d, i) => (d.cost_per_lead === null ? null : [xOf(i), yMoney(d.cost_per_lead), `${d.date}: CPL ${d.cost_per_lead} ${currency}`])), "cpl");
  label(svg, PAD.left, H - 4, `spend, CPL (${currency})`, "start", "axis");
  label(svg, W - PAD.right, H - 4, "leads", "end", "axis");
  return svg;
}
