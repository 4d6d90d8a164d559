// Revenue by country: a world map of net revenue and the per-country figures. A viewer with a region scope
// sees one of their countries at a time (the API refuses rows that add up others).
import "../shell.js";
import { martCsvUrl, martRows } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { failureNotice, groupBy, notice, render, section, sum } from "../dom.js";
import { currentFilters, filterForm, rangeOf } from "../filters.js";
import { iso3 } from "../iso3.js";
import { STORES_ONLY, scopeCountries } from "../scope.js";
import { sortableTable } from "../table.js";

function perCountry(rows) {
  return [...groupBy(rows, "country").entries()].map(([country, group]) => {
    const orders = sum(group, "orders");
    const revenue = sum(group, "revenue");
    return { country, orders, revenue, refunds: sum(group, "refunds"), net_revenue: sum(group, "net_revenue"), aov: orders ? revenue / orders : null };
  });
}

const SCOPE = scopeCountries();

// The mart's filters: the date range, and for a scoped viewer one of their countries.
function martParams(filters) {
  return SCOPE ? { ...rangeOf(filters), country: SCOPE.includes(filters.country) ? filters.country : SCOPE[0] } : rangeOf(filters);
}

async function show(filters) {
  const specs = [{ name: "from", label: "From" }, { name: "to", label: "To" }];
  if (SCOPE) specs.push({ name: "country", label: "Country", options: SCOPE.map((code) => [code, code]) });
  const form = filterForm(specs, filters, show);
  let rows;
  try {
    rows = await martRows("mart_revenue_by_country", martParams(filters));
  } catch (error) {
    render(form, failureNotice(error, "revenue by country"));
    return;
  }
  const countries = perCountry(rows).sort((a, b) => b.net_revenue - a.net_revenue);
  const units = { revenue: "money", refunds: "money", net_revenue: "money", aov: "money" };
  const columns = ["country", "orders", "revenue", "refunds", "net_revenue", "aov"].map((key) => ({ key, label: key.replaceAll("_", " "), unit: units[key] }));
  render(
    form,
    section("Net revenue by order country", chartBox("country-map", "World map of net revenue by country")),
    section("Ranking", chartBox("country-bars", "Net revenue per country")),
    section("Countries", sortableTable({ columns, rows: countries, csvUrl: martCsvUrl("mart_revenue_by_country", martParams(filters)) })),
  );
  const mapped = countries.filter((row) => iso3(row.country));
  await Promise.all([
    plot(
      "country-map",
      [{ type: "choropleth", locationmode: "ISO-3", locations: mapped.map((row) => iso3(row.country)), z: mapped.map((row) => row.net_revenue), text: mapped.map((row) => row.country), colorscale: [[0, "#dbeafe"], [1, "#1e3a8a"]], colorbar: { title: { text: "Net revenue" } }, hovertemplate: "%{text}: %{z:,.0f}<extra></extra>" }],
      { height: 420, margin: { l: 0, r: 0, t: 0, b: 0 }, geo: { projection: { type: "natural earth" }, showframe: false, showcoastlines: false } },
    ),
    plot("country-bars", [{ type: "bar", x: countries.map((row) => row.country), y: countries.map((row) => row.net_revenue), marker: { color: "#2563eb" }, name: "Net revenue" }], { height: 300 }),
  ]);
}

if (SCOPE && !SCOPE.length) render(notice("forbidden", STORES_ONLY));
else show(currentFilters());
