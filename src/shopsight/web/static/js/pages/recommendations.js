// Recommendations: online click-through rate per model and version (feedback events in mart_recs_ctr)
// next to each registered version's offline hold-out metrics (/api/v1/recs/models).
import "../shell.js";
import { getJson, martCsvUrl, martRows } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, groupBy, notice, render, section, sum } from "../dom.js";
import { currentFilters, filterForm, rangeOf } from "../filters.js";
import { sortableTable } from "../table.js";

const SURFACES = [["", "All surfaces"], ["home", "Home page"], ["product_page", "Product page"], ["cart", "Cart"]];
// Offline metrics shown first when a version has them; any other metric follows in name order.
const FIRST_METRICS = ["ndcg@10", "recall@10", "recall@20", "hit@20", "mrr@20", "map@10", "coverage", "novelty"];

function label(row) {
  return `${row.model} v${row.version}`;
}

function ratio(numerator, denominator) {
  return denominator ? numerator / denominator : null;
}

// One row per model and version over the chosen days and surface (viewers are per day, so not summed).
function perModel(rows) {
  return [...groupBy(rows, "_label").values()].map((group) => {
    const impressions = sum(group, "impressions");
    const clicks = sum(group, "clicks");
    return { model: group[0].model, version: group[0].version, list_views: sum(group, "list_views"), impressions, clicks, ctr: ratio(clicks, impressions) };
  }).sort((a, b) => (b.ctr ?? -1) - (a.ctr ?? -1));
}

// Daily CTR of each model and version: clicks / impressions over the surfaces shown.
function ctrTraces(rows) {
  return [...groupBy(rows, "_label").entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([name, group]) => {
    const days = [...groupBy(group, "period").entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    return {
      type: "scatter",
      mode: "lines+markers",
      name,
      x: days.map(([day]) => day),
      y: days.map(([, dayRows]) => ratio(sum(dayRows, "clicks"), sum(dayRows, "impressions"))),
      hovertemplate: `${name} %{x}: %{y:.1%}<extra></extra>`,
    };
  });
}

function metricNames(versions) {
  const seen = new Set(versions.flatMap((v) => Object.keys(v.metrics)));
  const first = FIRST_METRICS.filter((name) => seen.has(name));
  return [...first, ...[...seen].filter((name) => !first.includes(name)).sort()];
}

function offlineTable(answer, online) {
  if (!answer.versions.length) {
    return notice("empty", "No recommendation model is trained yet: run `shopsight recs train` to see its offline metrics here.");
  }
  const metrics = metricNames(answer.versions);
  const ctrOf = new Map(online.map((row) => [label(row), row.ctr]));
  const rows = answer.versions.map((v) => ({
    version: v.version,
    model: v.model || "",
    status: v.active ? "active" : v.status,
    created: v.created_at.slice(0, 16).replace("T", " "),
    ...Object.fromEntries(metrics.map((name) => [name, v.metrics[name] ?? null])),
    online_ctr: ctrOf.get(`${v.model} v${v.version}`) ?? null,
  }));
  const columns = Object.keys(rows[0]).map((key) => ({ key, label: key.replaceAll("_", " "), unit: key === "online_ctr" ? "ratio" : undefined }));
  return sortableTable({ columns, rows, sort: { key: "version", desc: true }, csvName: "recommendation-models" });
}

async function offline(online) {
  try {
    return offlineTable(await getJson("/api/v1/recs/models"), online);
  } catch (error) {
    return failureNotice(error, "the registered models");
  }
}

async function show(filters) {
  const specs = [{ name: "from", label: "From" }, { name: "to", label: "To" }, { name: "surface", label: "Surface", options: SURFACES }];
  const form = filterForm(specs, filters, show);
  const params = { ...rangeOf(filters), surface: filters.surface || undefined };
  let rows;
  try {
    rows = (await martRows("mart_recs_ctr", params)).map((row) => ({ ...row, _label: label(row) }));
  } catch (error) {
    render(form, failureNotice(error, "recommendation click-through rates"), section("Offline metrics (hold-out)", await offline([])));
    return;
  }
  const online = perModel(rows);
  const units = { ctr: "ratio" };
  const columns = ["model", "version", "list_views", "impressions", "clicks", "ctr"].map((key) => ({ key, label: key.replaceAll("_", " "), unit: units[key] }));
  const trend = rows.length
    ? chartBox("recs-ctr", "Click-through rate of recommendations per model and version, by day")
    : notice("empty", "No recommendation feedback yet: storefronts track Product List Viewed and Product Clicked with the recommendation context.");
  render(
    form,
    section("CTR by model over time", trend),
    section("Impressions, clicks and CTR per model", sortableTable({ columns, rows: online, sort: { key: "ctr", desc: true }, csvUrl: martCsvUrl("mart_recs_ctr", params) })),
    section("Offline metrics (hold-out)", el("div", { id: "offline-metrics" }, notice("loading", "Loading…"))),
  );
  const table = offline(online).then((node) => document.getElementById("offline-metrics").replaceChildren(node));
  const chart = rows.length
    ? plot("recs-ctr", ctrTraces(rows), { height: 340, yaxis: { title: { text: "CTR" }, tickformat: ".1%", rangemode: "tozero", automargin: true } })
    : Promise.resolve();
  await Promise.all([table, chart]);
}

show(currentFilters());
