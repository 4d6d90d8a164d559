// Building the page from data: elements, number formats, and the states a section can be in.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const percent = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 });

// unit as the KPI catalog names it: count, currency, ratio...
export function formatValue(value, unit) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (unit === "currency" || unit === "money" || unit === "usd") return money.format(value);
  if (unit === "ratio" || unit === "rate" || unit === "percent") return percent.format(value);
  return Number.isInteger(value) ? integer.format(value) : decimal.format(value);
}

export function formatChange(change) {
  if (change === null || change === undefined) return { text: "no previous value", trend: "flat" };
  const sign = change > 0 ? "▲" : change < 0 ? "▼" : "■";
  return { text: `${sign} ${percent.format(Math.abs(change))} vs previous period`, trend: change > 0 ? "up" : change < 0 ? "down" : "flat" };
}

export function section(title, ...children) {
  return el("section", { class: "card" }, el("h2", { text: title }), ...children);
}

export function notice(kind, text) {
  return el("p", { class: `state ${kind}`, role: kind === "error" || kind === "forbidden" ? "alert" : "status", text });
}

// How an API failure reads on the page: a refusal, a route another part of the platform has not shipped, or an error.
export function failureNotice(error, what) {
  if (error && error.status === 403) return notice("forbidden", `Forbidden: your role may not see ${what}.`);
  if (error && error.routeMissing) return notice("unavailable", `${what} is not available on this server yet.`);
  if (error && error.status === 404) return notice("empty", `No ${what} yet: ${error.detail}`);
  return notice("error", `Could not load ${what}: ${error && error.message ? error.message : error}`);
}

export function root() {
  return document.getElementById("page-root");
}

export function render(...children) {
  root().replaceChildren(...children);
}

export function sum(rows, key) {
  return rows.reduce((total, row) => total + (typeof row[key] === "number" ? row[key] : 0), 0);
}

export function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const value = row[key];
    if (!groups.has(value)) groups.set(value, []);
    groups.get(value).push(row);
  }
  return groups;
}
