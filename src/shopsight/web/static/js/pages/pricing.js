// Pricing: the plan's price suggestions with their expected weekly impact (units, revenue, margin),
// the elasticity behind each, the guardrails that limited it and every driver.
import "../shell.js";
import { getJson, query } from "../api.js";
import { el, failureNotice, formatValue, render, section } from "../dom.js";
import { currentFilters, filterForm } from "../filters.js";
import { sortableTable } from "../table.js";

const PAGE_SIZE = 25;
const ACTIONS = [["", "Every action"], ["markdown", "Markdown"], ["raise", "Raise"], ["lower", "Lower"], ["hold", "Hold"]];
const KEYS = ["product_id", "title", "action", "current_price", "recommended_price", "change", "units_now", "units", "revenue_now", "revenue", "margin_now", "margin", "margin_change", "elasticity", "elasticity_source", "binding", "drivers"];
const UNITS = { current_price: "money", recommended_price: "money", revenue_now: "money", revenue: "money", margin_now: "money", margin: "money", margin_change: "money", change: "ratio" };

function list(values) {
  return values && values.length ? el("ul", { class: "drivers" }, values.map((text) => el("li", { text }))) : "–";
}

function columns() {
  return KEYS.map((key) => ({
    key,
    label: key.replaceAll("_", " "),
    unit: UNITS[key],
    render: key === "drivers" || key === "binding" ? list : undefined,
  }));
}

async function suggestions(holder, filters, sort, page) {
  const params = { action: filters.action || undefined, sort: sort || undefined };
  try {
    const answer = await getJson(`/api/v1/pricing/suggestions${query({ ...params, page, page_size: PAGE_SIZE })}`);
    const key = (sort || "").replace(/^-/, "");
    holder.replaceChildren(
      el("p", { class: "note", text: `Expected figures per week, from the plan of ${answer.plan.plan_day} (data up to ${answer.plan.as_of}).` }),
      sortableTable({
        columns: columns(),
        rows: answer.items,
        sort: key ? { key, desc: sort.startsWith("-") } : null,
        // Lists (drivers, binding guardrails) have no order: a click on their header keeps the page.
        onServerSort: (next) => (/^-?(drivers|binding)$/.test(next) ? null : suggestions(holder, filters, next, 1)),
        pager: { page, pageSize: PAGE_SIZE, total: answer.total, onPage: (next) => suggestions(holder, filters, sort, next) },
      }),
    );
  } catch (error) {
    holder.replaceChildren(failureNotice(error, "price suggestions"));
  }
}

function card(label, value, unit) {
  return el("article", { class: "kpi" }, el("h3", { text: label }), el("p", { class: "kpi-value", text: formatValue(value, unit) }));
}

async function totals() {
  const counts = await Promise.all(
    ACTIONS.slice(1).map(([action]) => getJson(`/api/v1/pricing/suggestions${query({ action, page_size: 1 })}`).then((a) => [action, a.total])),
  );
  return el("div", { class: "kpi-grid" }, counts.map(([action, total]) => card(action, total)));
}

async function show(filters) {
  const form = filterForm([{ name: "action", label: "Action", options: ACTIONS }], filters, show);
  const holder = el("div");
  let cards;
  try {
    cards = await totals();
  } catch (error) {
    render(form, failureNotice(error, "price suggestions"));
    return;
  }
  render(form, cards, section("Price suggestions", holder));
  await suggestions(holder, filters, "", 1);
}

show(currentFilters());
