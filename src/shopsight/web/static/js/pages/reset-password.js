// Reset password: the token comes in the link's fragment (#token=...), which browsers send to no server;
// it is taken out of the address bar at once so it stays out of history and screenshots.
import { ApiError, postJson } from "../api.js";

const form = document.getElementById("account-form");
const error = document.getElementById("account-error");
const done = document.getElementById("account-done");
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
history.replaceState(null, "", location.pathname);

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

if (!token) show("This page needs the link from the reset e-mail: ask for a new one.");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const password = form.elements.namedItem("new_password").value;
  if (password !== form.elements.namedItem("again").value) {
    show("The two passwords differ.");
    return;
  }
  const code = form.elements.namedItem("code").value.replaceAll(" ", "");
  try {
    const answer = await postJson("/api/v1/auth/password-reset/confirm", { token, new_password: password, code: code || null });
    done.textContent = answer.detail;
    done.hidden = false;
    form.querySelector("button").disabled = true;
    setTimeout(() => location.assign("/login"), 1500);
  } catch (failure) {
    show(failure instanceof ApiError ? failure.detail : String(failure));
  }
});
