// Catalog and lineage: every table with its columns, and how data flows raw -> staging -> curated -> marts.
import "../shell.js";
import { getJson, getText } from "../api.js";
import { chartBox, plot } from "../charts.js";
import { el, failureNotice, render, section } from "../dom.js";
import { sortableTable } from "../table.js";

const LAYER_COLOURS = { raw: "#94a3b8", seed: "#a855f7", staging: "#0ea5e9", curated: "#2563eb", mart: "#10b981" };

function nameColumn(columnsHolder, byName) {
  const show = (name) => columnsView(columnsHolder, byName.get(name));
  return { key: "name", label: "name", render: (name) => el("button", { type: "button", class: "link-button", text: name, onclick: () => show(name) }) };
}

function tableRows(catalog) {
  return catalog.tables.map((table) => ({ name: table.name, layer: table.layer, owner: table.owner, columns: table.columns.length, key: table.key.join(", "), description: table.description }));
}

function columnsView(holder, table) {
  const rows = table.columns.map((column) => ({ column: column.name, type: column.type, classification: column.classification, owner: column.owner, description: column.description }));
  holder.replaceChildren(el("h3", { text: `${table.name} (${table.layer})` }), el("p", { class: "muted", text: table.description }), sortableTable({ rows, columns: Object.keys(rows[0] || { column: "" }).map((key) => ({ key, label: key })), csvName: `columns-${table.name}` }));
}

function sankey(lineage) {
  const names = lineage.nodes.map((node) => node.name);
  const index = new Map(names.map((name, i) => [name, i]));
  const edges = lineage.edges.filter((edge) => index.has(edge.from) && index.has(edge.to));
  return {
    type: "sankey",
    arrangement: "snap",
    node: { label: names, color: lineage.nodes.map((node) => LAYER_COLOURS[node.layer] || "#64748b"), pad: 8, thickness: 12 },
    link: { source: edges.map((edge) => index.get(edge.from)), target: edges.map((edge) => index.get(edge.to)), value: edges.map(() => 1), color: "rgba(37, 99, 235, 0.18)" },
  };
}

async function main() {
  let catalog;
  try {
    catalog = await getJson("/api/v1/catalog");
  } catch (error) {
    render(failureNotice(error, "the catalog"));
    return;
  }
  const columnsHolder = el("div", { class: "columns-view" }, el("p", { class: "muted", text: "Choose a table to see its columns." }));
  const byName = new Map(catalog.tables.map((table) => [table.name, table]));
  const mermaid = el("pre", { class: "mermaid-source", text: "loading…" });
  render(
    section("Lineage", chartBox("lineage-chart", "Lineage from raw tables to marts"), el("details", {}, el("summary", { text: "Mermaid source" }), mermaid)),
    section("Tables", sortableTable({ rows: tableRows(catalog), columns: [nameColumn(columnsHolder, byName), ...["layer", "owner", "columns", "key", "description"].map((key) => ({ key, label: key }))], csvName: "catalog-tables" })),
    section("Columns", columnsHolder),
  );
  getText("/api/v1/lineage").then((text) => { mermaid.textContent = text; }, () => { mermaid.textContent = "not available"; });
  await plot("lineage-chart", [sankey(catalog.lineage)], { height: 620, margin: { l: 8, r: 8, t: 8, b: 8 } });
}

main();
