// Top products: the ten best sellers by item revenue, and every product-month row (sorted by the API).
import "../shell.js";
import { getJson, martCsvUrl, martRows, query } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { failureNotice, groupBy, render, section, sum } from "../dom.js";
import { currentFilters, filterForm, rangeOf } from "../filters.js";
import { columnsOf, sortableTable } from "../table.js";

const PAGE_SIZE = 25;
const UNITS = { item_revenue: "money" };

// Long product names would squeeze the bars at phone width; the table keeps the full title.
function shortTitle(title) {
  return title.length > 24 ? `${title.slice(0, 23)}…` : title;
}

function topTen(rows) {
  const products = [...groupBy(rows, "product_id").entries()].map(([productId, group]) => ({
    product_id: productId,
    title: group[0].title,
    item_revenue: sum(group, "item_revenue"),
    units: sum(group, "units"),
  }));
  return products.sort((a, b) => b.item_revenue - a.item_revenue).slice(0, 10);
}

// The product-month rows, one API page at a time, sorted by the API.
async function rowsTable(holder, filters, sort, page) {
  const params = { ...rangeOf(filters), sort };
  try {
    const answer = await getJson(`/api/v1/marts/mart_top_products${query({ ...params, page, page_size: PAGE_SIZE })}`);
    const key = sort.replace(/^-/, "").split(",")[0];
    holder.replaceChildren(
      sortableTable({
        columns: columnsOf(answer.items, UNITS),
        rows: answer.items,
        sort: { key, desc: sort.startsWith("-") },
        csvUrl: martCsvUrl("mart_top_products", params),
        onServerSort: (next) => rowsTable(holder, filters, next, 1),
        pager: { page, pageSize: PAGE_SIZE, total: answer.total, onPage: (next) => rowsTable(holder, filters, sort, next) },
      }),
    );
  } catch (error) {
    holder.replaceChildren(failureNotice(error, "product rows"));
  }
}

async function show(filters) {
  const form = filterForm([{ name: "from", label: "From" }, { name: "to", label: "To" }], filters, show);
  let rows;
  try {
    rows = await martRows("mart_top_products", rangeOf(filters));
  } catch (error) {
    render(form, failureNotice(error, "top products"));
    return;
  }
  const top = topTen(rows);
  const holder = section("Products per month");
  render(form, section("Top 10 products by item revenue", chartBox("top-products", "Top ten products by revenue")), holder);
  const table = document.createElement("div");
  holder.append(table);
  await Promise.all([
    plot(
      "top-products",
      [{ type: "bar", orientation: "h", y: top.map((row) => shortTitle(row.title || row.product_id)).reverse(), x: top.map((row) => row.item_revenue).reverse(), marker: { color: "#2563eb" }, hovertemplate: "%{y}: %{x:,.2f}<extra></extra>" }],
      { height: 380, margin: { l: 8, r: 24, t: 16, b: 40 }, yaxis: { automargin: true } },
    ),
    rowsTable(table, filters, "-item_revenue", 1),
  ]);
}

show(currentFilters());
