// Retention: share of each first-order cohort still buying N months later, as a heatmap.
import "../shell.js";
import { martCsvUrl, martRows } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { failureNotice, render, section } from "../dom.js";
import { columnsOf, sortableTable } from "../table.js";

function matrix(rows) {
  const cohorts = [...new Set(rows.map((row) => row.cohort_month))].sort();
  const offsets = [...new Set(rows.map((row) => row.month_offset))].sort((a, b) => a - b);
  const z = cohorts.map(() => offsets.map(() => null));
  for (const row of rows) z[cohorts.indexOf(row.cohort_month)][offsets.indexOf(row.month_offset)] = row.retention_rate;
  const text = z.map((line) => line.map((value) => (value === null ? "" : `${Math.round(value * 100)}%`)));
  return { cohorts: cohorts.map((c) => c.slice(0, 7)), offsets, z, text };
}

async function main() {
  let rows;
  try {
    rows = await martRows("mart_retention_cohorts", { sort: "cohort_month,month_offset" });
  } catch (error) {
    render(failureNotice(error, "retention cohorts"));
    return;
  }
  const units = { retention_rate: "ratio", repeat_rate_to_date: "ratio", revenue: "money", revenue_per_customer: "money" };
  const { cohorts, offsets, z, text } = matrix(rows);
  render(
    section("Retention by cohort (share of the cohort ordering in month N)", chartBox("retention-heatmap", "Retention cohort heatmap")),
    section("Cohort rows", sortableTable({ columns: columnsOf(rows, units), rows, csvUrl: martCsvUrl("mart_retention_cohorts") })),
  );
  await plot(
    "retention-heatmap",
    [{ type: "heatmap", x: offsets, y: cohorts, z, text, texttemplate: "%{text}", colorscale: "Blues", zmin: 0, zmax: 1, hovertemplate: "cohort %{y}, month +%{x}: %{text}<extra></extra>" }],
    { height: Math.max(320, 28 * cohorts.length + 120), xaxis: { title: { text: "months since first order" }, dtick: 1 }, yaxis: { autorange: "reversed", type: "category" }, margin: { l: 80, r: 24, t: 16, b: 56 } },
  );
}

main();
