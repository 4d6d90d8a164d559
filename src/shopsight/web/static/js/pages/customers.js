// Customers: a sortable, paged list and the customer 360 view (profile, orders, sessions, reviews), masked
// by the API according to the viewer's role.
import "../shell.js";
import { getJson, query } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, formatValue, render, section } from "../dom.js";
import { columnsOf, sortableTable } from "../table.js";

const PAGE_SIZE = 25;
const DATE_KEYS = ["placed_at", "ordered_at", "order_ts", "created_at", "ts", "period"];
const AMOUNT_KEYS = ["gross_reporting", "revenue", "total", "amount", "order_total", "grand_total", "net_revenue"];

function customerId(row) {
  return row.customer_id ?? row.id;
}

function itemsOf(answer) {
  return answer.items || answer.customers || [];
}

async function list(holder, sort, page) {
  try {
    const answer = await getJson(`/api/v1/customers${query({ page, page_size: PAGE_SIZE, sort })}`);
    const rows = itemsOf(answer);
    const key = (sort || "").replace(/^-/, "");
    holder.replaceChildren(
      sortableTable({
        columns: columnsOf(rows),
        rows,
        sort: key ? { key, desc: sort.startsWith("-") } : null,
        rowHref: (row) => `/customers/${encodeURIComponent(customerId(row))}`,
        onServerSort: (next) => list(holder, next, 1),
        pager: { page, pageSize: PAGE_SIZE, total: answer.total ?? rows.length, onPage: (next) => list(holder, sort, next) },
      }),
    );
  } catch (error) {
    holder.replaceChildren(failureNotice(error, "Customer 360"));
  }
}

function profile(customer) {
  return el(
    "dl",
    { class: "profile" },
    Object.entries(customer).flatMap(([key, value]) => [
      el("dt", { text: key.replaceAll("_", " ") }),
      el("dd", { "data-field": key, text: value === null || value === undefined ? "–" : typeof value === "object" ? JSON.stringify(value) : String(value) }),
    ]),
  );
}

// Times to the minute on a card (the tables keep the full timestamp).
function cardValue(key, value) {
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return `${value.slice(0, 10)} ${value.slice(11, 16)} UTC`;
  return formatValue(value, /revenue|amount|spent/.test(key) ? "money" : undefined);
}

function totalsCards(totals) {
  return el(
    "div",
    { class: "kpi-grid" },
    Object.entries(totals || {}).map(([key, value]) =>
      el("article", { class: "kpi" }, el("h3", { text: key.replaceAll("_", " ") }), el("p", { class: "kpi-value", text: cardValue(key, value) })),
    ),
  );
}

function orderChart(orders) {
  const sample = orders[0] || {};
  const dateKey = DATE_KEYS.find((key) => key in sample);
  const amountKey = AMOUNT_KEYS.find((key) => typeof sample[key] === "number");
  if (!dateKey || !amountKey) return null;
  const sorted = orders.slice().sort((a, b) => String(a[dateKey]).localeCompare(String(b[dateKey])));
  return () => plot("customer-orders", [{ type: "bar", x: sorted.map((o) => o[dateKey]), y: sorted.map((o) => o[amountKey]), name: amountKey, marker: { color: "#2563eb" } }], { height: 260 });
}

function part(title, rows) {
  return section(`${title} (${rows.length})`, rows.length ? sortableTable({ rows, columns: columnsOf(rows) }) : el("p", { class: "state empty", text: `No ${title.toLowerCase()}.` }));
}

async function detail(id) {
  let view;
  try {
    view = await getJson(`/api/v1/customers/${encodeURIComponent(id)}`);
  } catch (error) {
    render(el("p", {}, el("a", { href: "/customers", text: "‹ All customers" })), failureNotice(error, "Customer 360"));
    return;
  }
  const orders = view.orders || [];
  const drawChart = orderChart(orders);
  render(
    el("p", {}, el("a", { href: "/customers", text: "‹ All customers" })),
    section("Profile", profile(view.customer || {})),
    totalsCards(view.totals),
    drawChart ? section("Orders over time", chartBox("customer-orders", "Order amounts over time")) : null,
    part("Orders", orders),
    part("Sessions", view.sessions || []),
    part("Reviews", view.reviews || []),
  );
  if (drawChart) await drawChart();
}

function main() {
  const match = location.pathname.match(/^\/customers\/(.+)$/);
  if (match) {
    detail(decodeURIComponent(match[1]));
    return;
  }
  const holder = el("div");
  render(section("Customers", holder));
  list(holder, "", 1);
}

main();
