// Sign-in page.

import { signedIn } from "../app.js";
import { h } from "../dom.js";
import { ApiError, api, isAbort } from "../request.js";

export function render({ main, query }) {
  const username = h("input", { id: "login-username", name: "username", autocomplete: "username", required: true });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");

  async function onSubmit(event) {
    event.preventDefault();
    message.textContent = "";
    message.className = "form-message";
    if (!username.value.trim() || !password.value) {
      showError("Enter your username and password.");
      return;
    }
    submit.disabled = true;
    try {
      const user = await api.post("/session", { username: username.value.trim(), password: password.value });
      signedIn(user, query.get("next"));
    } catch (error) {
      if (isAbort(error)) return;
      showError(error instanceof ApiError ? error.message : "The server could not be reached. Try again.");
      password.select();
    } finally {
      submit.disabled = false;
    }
  }

  function showError(text) {
    message.textContent = text;
    message.className = "form-message message-error";
  }

  main.append(
    h(
      "section",
      { class: "login card" },
      h("h1", { tabindex: "-1" }, "Sign in to Track"),
      h("p", { class: "muted" }, "Log your hours and follow project progress."),
      h(
        "form",
        { onsubmit: onSubmit, novalidate: true },
        h("div", { class: "field" }, h("label", { for: username.id }, "Username"), username),
        h("div", { class: "field" }, h("label", { for: password.id }, "Password"), password),
        message,
        h("div", { class: "form-actions" }, submit),
      ),
    ),
  );
  username.focus();
}
