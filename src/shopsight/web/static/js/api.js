// Calls to the JSON API with the session cookie; state-changing calls echo the CSRF token.

export class ApiError extends Error {
  constructor(status, detail, url) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
    this.url = url;
  }
  // FastAPI answers an unknown route with exactly this detail; a known route's 404 says more.
  get routeMissing() {
    return this.status === 404 && this.detail === "Not Found";
  }
}

function csrfToken() {
  // "__Host-shopsight_csrf" over TLS, "shopsight_csrf" over plain HTTP
  const found = document.cookie.split("; ").find((part) => /^(__Host-)?shopsight_csrf=/.test(part));
  return found ? decodeURIComponent(found.slice(found.indexOf("=") + 1)) : "";
}

export function toLogin() {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}`);
}

async function failure(response, url) {
  let detail = response.statusText;
  try {
    const body = await response.json();
    detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
  } catch {
    // not JSON: keep the status text
  }
  return new ApiError(response.status, detail, url);
}

export async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, "sign in first", url);
  }
  if (!response.ok) throw await failure(response, url);
  return response.json();
}

export async function getText(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw await failure(response, url);
  return response.text();
}

export async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response, url);
  return response.status === 204 ? null : response.json();
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Every row of a mart for the given filters, page by page (the API caps a page at 1,000 rows).
export async function martRows(name, params = {}, maxPages = 50) {
  const rows = [];
  for (let page = 1; page <= maxPages; page += 1) {
    const answer = await getJson(`/api/v1/marts/${name}${query({ ...params, page, page_size: 1000 })}`);
    rows.push(...answer.items);
    if (rows.length >= answer.total || answer.items.length === 0) break;
  }
  return rows;
}

export function martCsvUrl(name, params = {}) {
  return `/api/v1/marts/${name}${query({ ...params, format: "csv" })}`;
}
