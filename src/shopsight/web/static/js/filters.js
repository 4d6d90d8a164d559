// The date range (and other) filters a page keeps in its URL, so a reload or a shared link shows the same view.
import { el } from "./dom.js";

// The keys come from the URL, which anyone can hand a viewer: a null-prototype object keeps "__proto__" or
// "constructor" a plain filter name, never a path to Object.prototype (ASVS V15.3.6).
export function currentFilters(defaults = {}) {
  const params = new URLSearchParams(location.search);
  const filters = Object.create(null);
  for (const [key, value] of Object.entries(defaults)) filters[key] = value;
  for (const [key, value] of params) filters[key] = value;
  return filters;
}

function field(spec, value) {
  if (spec.options) {
    const select = el("select", { name: spec.name }, spec.options.map(([optionValue, text]) => el("option", { value: optionValue, text })));
    select.value = value || "";
    return el("label", {}, spec.label, " ", select);
  }
  return el("label", {}, spec.label, " ", el("input", { type: spec.type || "date", name: spec.name, value: value || "" }));
}

// specs: [{name, label, type?, options?}]; onApply(filters) runs after the URL changed.
export function filterForm(specs, filters, onApply) {
  const form = el("form", { class: "filters" }, specs.map((spec) => field(spec, filters[spec.name])), el("button", { type: "submit", text: "Apply" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (value) search.set(key, value);
    history.replaceState(null, "", `${location.pathname}${search.toString() ? `?${search}` : ""}`);
    onApply(values);
  });
  return form;
}

export function rangeOf(filters) {
  return { from: filters.from || undefined, to: filters.to || undefined };
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function daysBefore(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - days);
  return isoDay(date);
}
