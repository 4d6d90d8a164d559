// Funnel: sessions reaching each step over the chosen days, step and overall conversion.
import "../shell.js";
import { martCsvUrl, martRows } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { failureNotice, groupBy, render, section, sum } from "../dom.js";
import { currentFilters, filterForm, rangeOf } from "../filters.js";
import { sortableTable } from "../table.js";

function steps(rows) {
  const byStep = [...groupBy(rows, "step_no").entries()].sort((a, b) => a[0] - b[0]);
  const first = byStep.length ? sum(byStep[0][1], "sessions") : 0;
  let previous = null;
  return byStep.map(([stepNo, stepRows]) => {
    const sessions = sum(stepRows, "sessions");
    const row = {
      step_no: stepNo,
      step: stepRows[0].step,
      sessions,
      step_conversion_rate: previous ? sessions / previous : null,
      overall_conversion_rate: first ? sessions / first : null,
    };
    previous = sessions;
    return row;
  });
}

async function show(filters) {
  const form = filterForm([{ name: "from", label: "From" }, { name: "to", label: "To" }], filters, show);
  let rows;
  try {
    rows = await martRows("mart_funnel", rangeOf(filters));
  } catch (error) {
    render(form, failureNotice(error, "the funnel"));
    return;
  }
  const funnel = steps(rows);
  const units = { step_conversion_rate: "ratio", overall_conversion_rate: "ratio" };
  const columns = Object.keys(funnel[0] || { step_no: 0, step: "", sessions: 0 }).map((key) => ({ key, label: key.replaceAll("_", " "), unit: units[key] }));
  render(
    form,
    section("Sessions through the funnel", chartBox("funnel-chart", "Funnel from session to order")),
    section("Steps", sortableTable({ columns, rows: funnel, csvUrl: martCsvUrl("mart_funnel", rangeOf(filters)) })),
  );
  await plot(
    "funnel-chart",
    [{ type: "funnel", y: funnel.map((row) => row.step.replaceAll("_", " ")), x: funnel.map((row) => row.sessions), textinfo: "value+percent initial", marker: { color: "#2563eb" } }],
    { height: 360, margin: { l: 120, r: 24, t: 16, b: 32 } },
  );
}

show(currentFilters());
