// Sign-in: e-mail, password and, for MFA accounts, a TOTP or one-time recovery code.
import { ApiError, postJson } from "../api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const codeLabel = document.getElementById("code-label");
const code = form.elements.namedItem("code");

// Only a path on this server: an absolute or protocol-relative `next` would be an open redirect.
function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

// Single sign-on (shown only when configured) opens the same page afterwards.
const sso = document.getElementById("sso-login");
if (sso) sso.setAttribute("href", `/auth/oidc/login?next=${encodeURIComponent(nextPath())}`);

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

form.elements.namedItem("use_recovery").addEventListener("change", (event) => {
  const recovery = event.target.checked;
  codeLabel.textContent = recovery ? "Recovery code" : "Authenticator code";
  code.setAttribute("inputmode", recovery ? "text" : "numeric");
  code.setAttribute("placeholder", recovery ? "one of your recovery codes" : "6 digits, if your account uses MFA");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const email = form.elements.namedItem("email").value.trim();
  const password = form.elements.namedItem("password").value;
  const typed = code.value.replaceAll(" ", "");
  if (!email || !password) {
    show("Enter your e-mail and password.");
    return;
  }
  try {
    await postJson("/api/v1/auth/login", { email, password, code: typed || null });
    location.assign(nextPath());
  } catch (failure) {
    const detail = failure instanceof ApiError ? failure.detail : String(failure);
    show(failure instanceof ApiError && failure.status === 429 ? `Too many attempts: ${detail}` : `Sign-in failed: ${detail}`);
    if (failure instanceof ApiError && failure.status === 401 && !typed) code.focus();
  }
});
