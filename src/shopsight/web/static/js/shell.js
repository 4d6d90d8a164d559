// What every signed-in page shares: the phone-width menu toggle and signing out.
import { postJson } from "./api.js";

function wireMenu() {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("nav");
  if (!toggle || !nav) return;
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
}

function wireSignOut() {
  const button = document.getElementById("sign-out");
  if (!button) return;
  button.addEventListener("click", async () => {
    let next = "/login";
    try {
      // A single sign-on session is sent on to the provider, to end its session there too.
      const answer = await postJson("/api/v1/auth/logout");
      if (answer && typeof answer.redirect === "string") next = answer.redirect;
    } finally {
      location.assign(next);
    }
  });
}

wireMenu();
wireSignOut();
