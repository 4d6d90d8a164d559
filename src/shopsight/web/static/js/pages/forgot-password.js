// Forgot password: ask for a reset link by e-mail. The answer is the same whether or not the address has an account.
import { ApiError, postJson } from "../api.js";

const form = document.getElementById("account-form");
const error = document.getElementById("account-error");
const done = document.getElementById("account-done");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const email = form.elements.namedItem("email").value.trim();
  if (!email) {
    error.textContent = "Enter your e-mail address.";
    error.hidden = false;
    return;
  }
  try {
    const answer = await postJson("/api/v1/auth/password-reset", { email });
    done.textContent = answer.detail;
    done.hidden = false;
    form.querySelector("button").disabled = true;
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.detail : String(failure);
    error.hidden = false;
  }
});
