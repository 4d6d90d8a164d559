// Demand forecast: pick a product (and a location, or all of them), see its recent daily units and the
// plan's daily forecast with shaded 80% and 95% intervals; below, every series with its chosen model.
import "../shell.js";
import { getJson, query } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, notice, render, section } from "../dom.js";
import { currentFilters, filterForm } from "../filters.js";
import { sortableTable } from "../table.js";

const SERIES_COLUMNS = ["product_id", "title", "location_id", "model", "history_units", "last_sale", "forecast_units", "backtest_rmse", "baseline_rmse"];

// Products by expected units (every location together), the busiest first.
function productOptions(series) {
  const totals = new Map();
  for (const row of series) {
    const known = totals.get(row.product_id) || { title: row.title || row.product_id, units: 0 };
    known.units += row.forecast_units;
    totals.set(row.product_id, known);
  }
  return [...totals.entries()].sort((a, b) => b[1].units - a[1].units).map(([id, p]) => [id, `${p.title} (${id})`]);
}

function band(points, level, color) {
  const x = points.map((p) => p.ds);
  return [
    { type: "scatter", mode: "lines", x, y: points.map((p) => p[`hi${level}`]), line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { type: "scatter", mode: "lines", x, y: points.map((p) => p[`lo${level}`]), line: { width: 0 }, fill: "tonexty", fillcolor: color, name: `${level}% interval`, hovertemplate: `${level}% bound: %{y:.2f}<extra></extra>` },
  ];
}

function traces(answer) {
  const points = answer.forecast;
  return [
    ...band(points, 95, "rgba(37, 99, 235, 0.12)"),
    ...band(points, 80, "rgba(37, 99, 235, 0.25)"),
    { type: "scatter", mode: "lines", name: "forecast", x: points.map((p) => p.ds), y: points.map((p) => p.mean), line: { color: "#2563eb", width: 2 }, hovertemplate: "forecast %{x}: %{y:.2f}<extra></extra>" },
    { type: "scatter", mode: "lines", name: "actual units", x: answer.actuals.map((p) => p.ds), y: answer.actuals.map((p) => p.units), line: { color: "#1f2933", width: 1.5 }, hovertemplate: "actual %{x}: %{y}<extra></extra>" },
  ];
}

function seriesTable(series) {
  const columns = SERIES_COLUMNS.map((key) => ({ key, label: key.replaceAll("_", " ") }));
  return sortableTable({
    columns,
    rows: series,
    sort: { key: "forecast_units", desc: true },
    csvName: "forecast-series",
    rowHref: (row) => `/forecast${query({ product: row.product_id, location: row.location_id })}`,
  });
}

async function show(filters) {
  let listing;
  try {
    listing = await getJson("/api/v1/forecasts?page_size=1000");
  } catch (error) {
    render(failureNotice(error, "demand forecasts"));
    return;
  }
  const series = listing.items;
  if (!series.length) {
    render(notice("empty", "The plan has no series: nothing sold or is held in stock."));
    return;
  }
  // Series that never sold (stock only) forecast zero: the table lists the others.
  const active = series.filter((row) => row.history_units > 0 || row.forecast_units > 0);
  const products = productOptions(series);
  const product = filters.product || products[0][0];
  const locations = series.filter((row) => row.product_id === product).map((row) => [row.location_id, row.location_id]);
  const form = filterForm(
    [{ name: "product", label: "Product", options: products }, { name: "location", label: "Location", options: [["", "All locations"], ...locations] }],
    { product, location: filters.location },
    show,
  );
  let answer;
  try {
    answer = await getJson(`/api/v1/forecasts/${encodeURIComponent(product)}${query({ location_id: filters.location })}`);
  } catch (error) {
    render(form, failureNotice(error, "this product's forecast"), section("Series with sales", seriesTable(active)));
    return;
  }
  const plan = listing.plan;
  const where = answer.location_id || "all locations";
  const models = Object.entries(answer.models).map(([loc, model]) => `${loc}: ${model}`).join(", ");
  render(
    form,
    section(
      `${answer.title || product} · ${where}`,
      el("p", { class: "note", text: `Daily units up to ${plan.as_of}, then the ${plan.horizon}-day forecast (model per location: ${models}). ${answer.note}.` }),
      chartBox("forecast-chart", `Daily units and forecast with 80% and 95% intervals for ${answer.title || product}`),
    ),
    section(`Series with sales (${active.length} of ${series.length})`, seriesTable(active)),
  );
  await plot("forecast-chart", traces(answer), { height: 360, yaxis: { title: { text: "units per day" }, rangemode: "tozero", automargin: true } });
}

show(currentFilters());
