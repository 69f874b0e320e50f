// The Metrics tab's conversation numbers: first-response times (agent and person), the share resolved without a
// person, hand-offs per day (bars) and leads with cost per lead by ad, creative or direction (horizontal bars).

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs, parent, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  if (parent) parent.appendChild(node);
  return node;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

// Hand-offs per day, one bar a day over the whole range (days without any show as gaps).
export function handoffChart(days, since, until, width) {
  const counts = new Map(days.map((d) => [d.date, d.count]));
  const all = [];
  for (let d = new Date(`${since}T00:00:00Z`); d <= new Date(`${until}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    const key = d.toISOString().slice(0, 10);
    all.push([key, counts.get(key) || 0]);
  }
  const w = Math.max(width || 600, 280), h = 160, left = 30, bottom = 22, top = 10;
  const max = Math.max(1, ...all.map(([, n]) => n));
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, class: "chart handoffs", role: "img", "aria-label": "hand-offs per day" });
  const slot = (w - left - 6) / all.length;
  const every = Math.ceil(all.length / Math.max(1, Math.floor((w - left) / 44))); // a date label needs ~44 px
  for (const fraction of max % 2 ? [0, 1] : [0, 0.5, 1]) { // whole numbers only: no "1" twice on a 0–1 axis
    const y = top + (h - top - bottom) * (1 - fraction);
    el("line", { x1: left, x2: w - 6, y1: y, y2: y, class: "grid" }, svg);
    el("text", { x: left - 4, y: y + 4, "text-anchor": "end", class: "axis" }, svg, Math.round(max * fraction));
  }
  all.forEach(([day, n], i) => {
    const barH = ((h - top - bottom) * n) / max;
    el("rect", { x: left + i * slot + slot * 0.15, y: h - bottom - barH, width: Math.max(slot * 0.7, 1), height: barH, class: "bar handoff" }, svg)
      .appendChild(el("title", {}, null, `${day}: ${n}`));
    if (i % every === 0) el("text", { x: left + i * slot + slot / 2, y: h - 6, "text-anchor": "middle", class: "axis" }, svg, day.slice(5));
  });
  return svg;
}

// One horizontal bar per group: its cost per lead (bar length) with the lead count and spend as text.
export function costPerLeadChart(groups, currency, width) {
  const w = Math.max(width || 600, 280), row = 26, labelW = Math.min(180, w * 0.4);
  const svg = el("svg", { viewBox: `0 0 ${w} ${Math.max(groups.length, 1) * row + 8}`, class: "chart cpl-groups", role: "img", "aria-label": "cost per lead" });
  const max = Math.max(1, ...groups.map((g) => g.cost_per_lead || 0));
  groups.forEach((g, i) => {
    const y = 4 + i * row;
    const label = g.name || g.key || "not mapped to an ad";
    el("text", { x: 0, y: y + 16, class: "axis" }, svg, label.length > 28 ? `${label.slice(0, 27)}…` : label);
    const barW = ((w - labelW - 150) * (g.cost_per_lead || 0)) / max;
    el("rect", { x: labelW, y: y + 4, width: Math.max(barW, g.cost_per_lead ? 2 : 0), height: row - 10, class: "bar cpl" }, svg);
    const cpl = g.cost_per_lead === null ? "no leads" : `${g.cost_per_lead} ${currency}/lead`;
    el("text", { x: labelW + barW + 6, y: y + 16, class: "axis" }, svg, `${cpl} · ${g.leads} leads · ${g.spend} spent`);
  });
  if (!groups.length) el("text", { x: 0, y: 20, class: "axis" }, svg, "No leads in this range.");
  return svg;
}
