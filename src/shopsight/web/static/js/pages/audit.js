// Audit log (security role): the signed tree head and the ledger's entries, filtered by action.
import "../shell.js";
import { getJson, query } from "../api.js";
import { el, failureNotice, render, section } from "../dom.js";
import { currentFilters, filterForm } from "../filters.js";
import { sortableTable } from "../table.js";

const PAGE_SIZE = 50;
const COLUMNS = ["index", "at", "action", "actor", "subject", "details", "leaf_hash"].map((key) => ({ key, label: key.replaceAll("_", " ") }));

// The head's fields (tree size, root hash, signature...) one per line, nested objects opened one level.
function head(answer) {
  const fields = Object.entries(answer).flatMap(([key, value]) => (value && typeof value === "object" ? Object.entries(value) : [[key, value]]));
  return el("dl", { class: "profile" }, fields.flatMap(([key, value]) => [el("dt", { text: key.replaceAll("_", " ") }), el("dd", { class: "mono", text: typeof value === "object" ? JSON.stringify(value) : String(value) })]));
}

async function entries(holder, action, page) {
  try {
    const answer = await getJson(`/api/v1/audit/entries${query({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, action })}`);
    holder.replaceChildren(
      sortableTable({ rows: answer.entries, columns: COLUMNS, pager: { page, pageSize: PAGE_SIZE, total: answer.total, onPage: (next) => entries(holder, action, next) } }),
    );
  } catch (error) {
    holder.replaceChildren(failureNotice(error, "The audit log"));
  }
}

async function main() {
  const filters = currentFilters();
  const headHolder = el("div");
  const entriesHolder = el("div");
  const form = filterForm([{ name: "action", label: "Action", type: "text" }], filters, (values) => entries(entriesHolder, values.action, 1));
  render(section("Signed tree head", headHolder), section("Entries", form, entriesHolder));
  getJson("/api/v1/audit/head").then((answer) => headHolder.replaceChildren(head(answer)), (error) => headHolder.replaceChildren(failureNotice(error, "The tree head")));
  await entries(entriesHolder, filters.action, 1);
}

main();
