// Data quality: the checks of the latest warehouse run, per table and status.
import "../shell.js";
import { getJson } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, groupBy, render, section } from "../dom.js";
import { sortableTable } from "../table.js";

const STATUS_COLOURS = { passed: "#10b981", warned: "#f59e0b", warning: "#f59e0b", failed: "#ef4444", error: "#ef4444", skipped: "#94a3b8" };

function summary(run) {
  const counts = groupBy(run.checks, "status");
  const cards = [["checks", run.checks.length], ...[...counts.entries()].map(([status, rows]) => [status, rows.length])];
  return el(
    "div",
    { class: "kpi-grid" },
    el("article", { class: `kpi ${run.passed ? "ok" : "bad"}` }, el("h3", { text: "run" }), el("p", { class: "kpi-value", text: run.passed ? "passed" : "blocked" }), el("p", { class: "kpi-previous", text: run.run_id })),
    cards.map(([label, count]) => el("article", { class: "kpi" }, el("h3", { text: label }), el("p", { class: "kpi-value", text: String(count) }))),
  );
}

function byTable(run) {
  const tables = [...new Set(run.checks.map((check) => check.table))];
  const statuses = [...new Set(run.checks.map((check) => check.status))];
  return statuses.map((status) => ({
    type: "bar",
    name: status,
    x: tables,
    y: tables.map((table) => run.checks.filter((check) => check.table === table && check.status === status).length),
    marker: { color: STATUS_COLOURS[status] || "#64748b" },
  }));
}

async function main() {
  let run;
  try {
    run = await getJson("/api/v1/quality");
  } catch (error) {
    render(failureNotice(error, "data-quality results"));
    return;
  }
  render(
    summary(run),
    section("Checks per table", chartBox("quality-chart", "Data-quality checks per table and status")),
    section("Checks", sortableTable({ rows: run.checks, columns: ["table", "check", "kind", "severity", "status", "observed", "expectation", "message"].map((key) => ({ key, label: key })), csvName: `quality-${run.run_id}` })),
  );
  await plot("quality-chart", byTable(run), { barmode: "stack", height: 340, xaxis: { tickangle: -40, automargin: true } });
}

main();
