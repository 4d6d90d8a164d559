// Inventory plan: stock risk per product x location (sorted by the API) and the replenishment plan
// (transfers, then purchase orders) with its CSV export for roles holding the inventory export right.
import "../shell.js";
import { getJson, query } from "../api.js";
import { el, failureNotice, formatValue, notice, render, section } from "../dom.js";
import { currentFilters, filterForm } from "../filters.js";
import { sortableTable } from "../table.js";

const PAGE_SIZE = 25;
const STATUSES = [["", "Every status"], ["reorder", "Reorder"], ["overstock", "Overstock"], ["ok", "OK"]];
const RISK_COLUMNS = ["product_id", "title", "location_id", "status", "available", "weekly_demand", "days_of_cover", "stockout_risk", "safety_stock", "reorder_point", "order_up_to", "eoq", "excess_units"];
const PLAN_COLUMNS = ["product_id", "title", "location_id", "kind", "source", "quantity", "order_by", "arrives", "inventory_position", "reorder_point", "order_up_to", "reason"];
const UNITS = { stockout_risk: "ratio" };

function columns(keys) {
  const reason = (text) => el("span", { class: "reason", text });
  return keys.map((key) => ({ key, label: key.replaceAll("_", " "), unit: UNITS[key], render: key === "reason" ? reason : undefined }));
}

function card(label, value, name) {
  return el("article", { class: "kpi", "data-metric": name }, el("h3", { text: label }), el("p", { class: "kpi-value", text: formatValue(value) }));
}

async function riskTable(holder, filters, sort, page) {
  const params = { location_id: filters.location || undefined, status: filters.status || undefined, sort };
  try {
    const answer = await getJson(`/api/v1/inventory/risk${query({ ...params, page, page_size: PAGE_SIZE })}`);
    const key = sort.replace(/^-/, "").split(",")[0];
    holder.replaceChildren(
      sortableTable({
        columns: columns(RISK_COLUMNS),
        rows: answer.items,
        sort: { key, desc: sort.startsWith("-") },
        onServerSort: (next) => riskTable(holder, filters, next, 1),
        pager: { page, pageSize: PAGE_SIZE, total: answer.total, onPage: (next) => riskTable(holder, filters, sort, next) },
      }),
    );
  } catch (error) {
    holder.replaceChildren(failureNotice(error, "stock risk"));
  }
}

async function mayExport() {
  try {
    const me = await getJson("/api/v1/me");
    return (me.permissions || []).includes("inventory:export");
  } catch {
    return false;
  }
}

async function show(filters) {
  const location = filters.location || undefined;
  let plan;
  try {
    plan = await getJson(`/api/v1/inventory/replenishment${query({ location_id: location, page_size: 1000 })}`);
  } catch (error) {
    render(failureNotice(error, "inventory plan"));
    return;
  }
  const locations = [...new Set(plan.items.map((row) => row.location_id))].sort();
  const form = filterForm(
    [{ name: "location", label: "Location", options: [["", "Every location"], ...locations.map((l) => [l, l])] }, { name: "status", label: "Risk", options: STATUSES }],
    filters,
    show,
  );
  const [reorder, overstock, exportable] = await Promise.all([
    getJson(`/api/v1/inventory/risk${query({ location_id: location, status: "reorder", page_size: 1 })}`),
    getJson(`/api/v1/inventory/risk${query({ location_id: location, status: "overstock", page_size: 1 })}`),
    mayExport(),
  ]);
  const units = plan.items.filter((row) => row.kind === "purchase").reduce((total, row) => total + row.quantity, 0);
  const cards = el(
    "div",
    { class: "kpi-grid" },
    card("to reorder", reorder.total, "reorder"),
    card("overstocked", overstock.total, "overstock"),
    card("plan lines", plan.total, "lines"),
    card("units to buy", units, "units"),
  );
  const riskHolder = el("div");
  const csvUrl = exportable ? `/api/v1/inventory/replenishment${query({ location_id: location, format: "csv" })}` : undefined;
  const planTable = sortableTable({ columns: columns(PLAN_COLUMNS), rows: plan.items, sort: { key: "order_by", desc: false }, csvUrl });
  const nothing = plan.items.length ? null : notice("empty", "Nothing to order: every position is above its reorder point.");
  render(
    form,
    el("p", { class: "note", text: `Plan for ${plan.plan.plan_day} from data up to ${plan.plan.as_of} (run ${plan.plan.run_id}).` }),
    cards,
    section("Replenishment plan", nothing, planTable),
    section("Stock risk", riskHolder),
  );
  await riskTable(riskHolder, filters, "-stockout_risk", 1);
}

show(currentFilters());
