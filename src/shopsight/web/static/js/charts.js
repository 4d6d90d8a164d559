// Plotly with the dashboard's defaults: responsive, no logo, the world map served from this server.
import { el } from "./dom.js";

const CONFIG = {
  responsive: true,
  displaylogo: false,
  topojsonURL: "/static/vendor/topojson/",
  modeBarButtonsToRemove: ["lasso2d", "select2d"],
};

const LAYOUT = {
  margin: { l: 56, r: 24, t: 16, b: 48 },
  paper_bgcolor: "rgba(0,0,0,0)",
  plot_bgcolor: "rgba(0,0,0,0)",
  font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#1f2933" },
  legend: { orientation: "h", y: -0.2 },
  colorway: ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9"],
};

export function chartBox(id, label) {
  return el("div", { id, class: "chart", role: "img", "aria-label": label });
}

// Draws once the box is in the document; the promise resolves when Plotly finished (maps load async).
// The height goes on the box and Plotly sizes itself to the box, so a resize (phone, rotation) redraws
// every part (colour bars included) at the new size.
export function plot(id, traces, layout = {}) {
  const box = document.getElementById(id);
  if (!window.Plotly) {
    box.replaceChildren(el("p", { class: "state error", text: "The chart library did not load." }));
    return Promise.resolve();
  }
  const { height, ...rest } = layout;
  box.style.height = `${height || 320}px`;
  return window.Plotly.newPlot(box, traces, { ...LAYOUT, ...rest, autosize: true }, CONFIG).then(() => box.setAttribute("data-rendered", "true"));
}
