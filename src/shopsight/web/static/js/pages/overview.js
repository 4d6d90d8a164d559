// Overview: KPI cards compared with the previous period, revenue and orders over time, the rows as a table.
// A viewer with a region scope picks one of their countries (the API refuses figures that add up others).
import "../shell.js";
import { getJson, martRows, query } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, formatChange, formatValue, notice, render, section } from "../dom.js";
import { currentFilters, daysBefore, filterForm } from "../filters.js";
import { STORES_ONLY, scopeCountries } from "../scope.js";
import { sortableTable } from "../table.js";

const CARD_METRICS = ["revenue", "orders", "aov", "conversion_rate", "sessions", "new_customers"];
const GRAINS = [["day", "Day"], ["week", "Week"], ["month", "Month"]];
const DEVICES = [["", "All devices"], ["desktop", "Desktop"], ["mobile", "Mobile"], ["tablet", "Tablet"]];

async function distinct(mart, column, allLabel) {
  try {
    const rows = await martRows(mart, {}, 5);
    const values = [...new Set(rows.map((row) => row[column]).filter(Boolean))].sort();
    return [["", allLabel], ...values.map((value) => [value, value])];
  } catch {
    return [["", allLabel]];
  }
}

// The last day with data, so the default range shows the newest 30 days the warehouse has.
async function defaultRange(country) {
  const answer = await getJson(`/api/v1/kpis${query({ metrics: "orders", grain: "day", country })}`);
  const to = answer.rows.length ? answer.rows[answer.rows.length - 1].period : new Date().toISOString().slice(0, 10);
  return { from: daysBefore(to, 29), to };
}

function kpiCard(change, units) {
  const unit = units[change.metric];
  const trend = formatChange(change.change);
  return el(
    "article",
    { class: "kpi", "data-metric": change.metric },
    el("h3", { text: change.metric.replaceAll("_", " ") }),
    el("p", { class: "kpi-value", text: formatValue(change.value, unit) }),
    el("p", { class: `kpi-change ${trend.trend}`, text: trend.text }),
    el("p", { class: "kpi-previous", text: `previous: ${formatValue(change.previous, unit)}` }),
  );
}

function timeSeries(rows) {
  const periods = rows.map((row) => row.period);
  // Whole orders on the right axis; without this it follows the revenue axis' grid (0.766...).
  const mostOrders = Math.max(0, ...rows.map((row) => row.orders || 0));
  return plot(
    "kpi-trend",
    [
      { type: "bar", name: "Revenue", x: periods, y: rows.map((row) => row.revenue), marker: { color: "#2563eb" } },
      { type: "scatter", mode: "lines+markers", name: "Orders", x: periods, y: rows.map((row) => row.orders), yaxis: "y2", line: { color: "#f97316" } },
    ],
    {
      height: 340,
      margin: { l: 64, r: 64, t: 16, b: 48 },
      yaxis: { title: { text: "Revenue" }, rangemode: "tozero", automargin: true },
      yaxis2: { title: { text: "Orders" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, automargin: true, ...(mostOrders <= 10 ? { tickmode: "linear", tick0: 0, dtick: 1 } : {}) },
    },
  );
}

async function show(filters, units, options) {
  const params = { metrics: CARD_METRICS.join(","), grain: filters.grain || "day", from: filters.from, to: filters.to, country: filters.country, device: filters.device, channel: filters.channel };
  const specs = [
    { name: "from", label: "From" },
    { name: "to", label: "To" },
    { name: "grain", label: "Grain", options: GRAINS },
    { name: "country", label: "Country", options: options.countries },
    { name: "channel", label: "Channel", options: options.channels },
    { name: "device", label: "Device", options: DEVICES },
  ];
  const form = filterForm(specs, filters, (values) => show({ ...filters, ...values }, units, options));
  let answer;
  try {
    answer = await getJson(`/api/v1/kpis${query({ ...params, compare: "previous_period" })}`);
  } catch (error) {
    render(form, failureNotice(error, "KPIs"));
    return;
  }
  const period = `${answer.start} – ${answer.end} vs ${answer.previous_start} – ${answer.previous_end}`;
  const csvUrl = `/api/v1/kpis${query({ ...params, format: "csv" })}`;
  const columns = [{ key: "period", label: "period" }, ...CARD_METRICS.map((name) => ({ key: name, label: name.replaceAll("_", " "), unit: units[name] }))];
  render(
    form,
    el("p", { class: "muted", text: `Warehouse version ${answer.version} · ${period}` }),
    el("div", { class: "kpi-grid" }, (answer.summary || []).map((change) => kpiCard(change, units))),
    section("Revenue and orders", chartBox("kpi-trend", "Revenue and orders per period")),
    section("Per period", sortableTable({ columns, rows: answer.rows, csvUrl })),
  );
  await timeSeries(answer.rows);
}

async function main() {
  const scope = scopeCountries();
  if (scope && !scope.length) {
    render(notice("forbidden", STORES_ONLY));
    return;
  }
  const filters = currentFilters({ grain: "day", ...(scope ? { country: scope[0] } : {}) });
  if (scope && !scope.includes(filters.country)) filters.country = scope[0];
  try {
    const [metrics, range, countries, channels] = await Promise.all([
      getJson("/api/v1/kpis/metrics"),
      defaultRange(filters.country),
      scope ? scope.map((code) => [code, code]) : distinct("mart_revenue_by_country", "country", "All countries"),
      scope ? [["", "All channels"]] : distinct("mart_cac_by_channel", "channel", "All channels"),
    ]);
    const units = Object.fromEntries(metrics.map((metric) => [metric.name, metric.unit]));
    await show({ ...range, ...filters }, units, { countries, channels });
  } catch (error) {
    render(failureNotice(error, "KPIs"));
  }
}

main();
