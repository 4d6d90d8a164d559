// Sortable tables with a CSV export. Sorting is local for rows already loaded, or asked of the API
// (`sort=col` / `sort=-col`) for server-paged tables; the CSV link is the API's own export.
import { el, formatValue } from "./dom.js";

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

export function columnsOf(rows, units = {}) {
  const keys = rows.length ? Object.keys(rows[0]) : [];
  return keys.map((key) => ({ key, label: key.replaceAll("_", " "), unit: units[key] }));
}

function cell(column, row) {
  const value = row[column.key];
  if (column.render) return el("td", {}, column.render(value, row));
  const shown = typeof value === "object" && value !== null ? JSON.stringify(value) : formatValue(value, column.unit);
  return el("td", { class: typeof value === "number" ? "num" : undefined, text: shown });
}

function csvText(columns, rows) {
  const quote = (value) => {
    const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [columns.map((c) => quote(c.key)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => quote(row[c.key])).join(","));
  return lines.join("\n") + "\n";
}

function exportLink(options, columns, rows) {
  if (options.csvUrl) {
    return el("a", { class: "button csv", href: options.csvUrl, download: "", text: "Export CSV" });
  }
  if (!options.csvName) return null;
  // Catalog and quality metadata only (no customer data): built from the rows on the page.
  const blob = new Blob([csvText(columns, rows)], { type: "text/csv" });
  return el("a", { class: "button csv", href: URL.createObjectURL(blob), download: `${options.csvName}.csv`, text: "Export CSV" });
}

function header(column, sort, onSort) {
  const active = sort && sort.key === column.key;
  const direction = active ? (sort.desc ? "descending" : "ascending") : "none";
  const button = el("button", { type: "button", class: "sort", text: column.label, onclick: () => onSort(column.key) });
  return el("th", { scope: "col", "aria-sort": direction, "data-key": column.key }, button);
}

function pager(options) {
  const { page, pageSize, total, onPage } = options.pager;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return el(
    "div",
    { class: "pager" },
    el("button", { type: "button", disabled: page <= 1, onclick: () => onPage(page - 1), text: "‹ Previous" }),
    el("span", { text: `page ${page} of ${pages} · ${total.toLocaleString("en-US")} rows` }),
    el("button", { type: "button", disabled: page >= pages, onclick: () => onPage(page + 1), text: "Next ›" }),
  );
}

// options: columns, rows, caption, csvUrl | csvName, sort {key, desc}, onServerSort(sortParam), pager, rowHref(row)
export function sortableTable(options) {
  const columns = options.columns || columnsOf(options.rows);
  let sort = options.sort || null;
  let rows = options.rows.slice();
  const body = el("tbody");
  const head = el("tr");
  const fill = () => {
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = el("tr", {}, columns.map((column) => cell(column, row)));
        if (options.rowHref) {
          const first = tr.firstChild;
          const text = first.textContent;
          first.replaceChildren(el("a", { href: options.rowHref(row), text }));
        }
        return tr;
      }),
    );
    head.replaceChildren(...columns.map((column) => header(column, sort, onSort)));
  };
  const onSort = (key) => {
    const desc = sort && sort.key === key ? !sort.desc : false;
    sort = { key, desc };
    if (options.onServerSort) {
      options.onServerSort(`${desc ? "-" : ""}${key}`, sort);
      return;
    }
    rows.sort((a, b) => (desc ? -1 : 1) * compare(a[key], b[key]));
    fill();
  };
  fill();
  const table = el("table", { class: "data" }, options.caption ? el("caption", { text: options.caption }) : null, el("thead", {}, head), body);
  const empty = rows.length ? null : el("p", { class: "state empty", text: "No rows for this selection." });
  return el(
    "div",
    { class: "table-block" },
    el("div", { class: "table-tools" }, exportLink(options, columns, rows), options.pager ? pager(options) : null),
    el("div", { class: "table-scroll" }, table),
    empty,
  );
}
