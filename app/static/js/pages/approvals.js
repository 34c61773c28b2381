// "Approvals" for managers: submitted weeks waiting for a decision (approve,
// or return with a comment), and the engineers who have not submitted last week.

import { pageError } from "../app.js";
import { h, uniqueId } from "../dom.js";
import { formatDate, formatHours } from "../format.js";
import { ApiError, api, fetchAll, isAbort } from "../request.js";

function personName(user) {
  return user.display_name || user.username;
}

export function render({ main, signal }) {
  const waitingBody = h("div", {}, h("p", { class: "muted" }, "Loading weeks…"));
  const missingTitle = h("h2", { id: "missing-title" }, "Not submitted last week");
  const missingBody = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  let generation = 0;

  main.append(
    h("h1", { tabindex: "-1" }, "Approvals"),
    message,
    h(
      "section",
      { class: "card table-card", "aria-labelledby": "waiting-title" },
      h("h2", { id: "waiting-title", class: "card-title" }, "Weeks waiting for approval"),
      waitingBody,
    ),
    h("section", { class: "card", "aria-labelledby": "missing-title" }, missingTitle, missingBody),
  );

  async function load() {
    generation += 1;
    const mine = generation;
    const [waiting, missing] = await Promise.all([
      fetchAll("/approvals", signal),
      api.get("/approvals/missing?limit=500", { signal }),
    ]);
    if (mine !== generation) return;
    showWaiting(waiting);
    showMissing(missing);
  }

  function showWaiting(items) {
    if (items.length === 0) {
      waitingBody.replaceChildren(h("p", { class: "empty-state" }, "No weeks are waiting for approval."));
      return;
    }
    waitingBody.replaceChildren(
      h(
        "table",
        { class: "data" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Person"),
            h("th", { scope: "col" }, "Week"),
            h("th", { scope: "col", class: "number" }, "Hours"),
            h("th", { scope: "col" }, "Submitted"),
            h("th", { scope: "col" }, "Decision"),
          ),
        ),
        h("tbody", {}, items.map(waitingRow)),
      ),
    );
  }

  function waitingRow(item) {
    const name = personName(item.user);
    const actions = h("td", { class: "actions" });
    const row = h(
      "tr",
      { dataset: { submission: item.id, user: item.user.id, week: item.week_start } },
      h("th", { scope: "row" }, name),
      h("td", {}, h("a", { href: `/grid?start=${item.week_start}&user=${item.user.id}` }, `Week of ${formatDate(item.week_start)}`)),
      h("td", { class: "number" }, `${formatHours(item.hours)} h`),
      h("td", { class: "date" }, formatDate(item.submitted_at)),
      actions,
    );

    function showButtons() {
      actions.replaceChildren(
        h("button", { type: "button", class: "primary", "aria-label": `Approve the week of ${name}`, onclick: approve }, "Approve"),
        h("button", { type: "button", "aria-label": `Return the week of ${name}`, onclick: showReturnForm }, "Return"),
      );
    }

    async function decide(action, comment) {
      message.textContent = "";
      for (const button of actions.querySelectorAll("button")) button.disabled = true;
      try {
        await api.post(`/weeks/${item.week_start}/${action}`, { user_id: item.user.id, comment }, { signal });
        message.className = "form-message message-success";
        message.textContent =
          action === "approve"
            ? `Approved the week of ${formatDate(item.week_start)} for ${name}.`
            : `Returned the week of ${formatDate(item.week_start)} to ${name}.`;
        await load();
        return null;
      } catch (error) {
        if (isAbort(error)) return null;
        for (const button of actions.querySelectorAll("button")) button.disabled = false;
        if (error instanceof ApiError && error.status === 409) load().catch(pageError);
        return error;
      }
    }

    async function approve() {
      const error = await decide("approve", "");
      if (error) {
        message.className = "form-message message-error";
        message.textContent = `The week of ${name} was not approved: ${error.message}`;
      }
    }

    function showReturnForm() {
      const commentId = uniqueId("return-comment");
      const comment = h("textarea", { id: commentId, rows: 2, maxlength: 2000 });
      const errorLine = h("p", { class: "field-error", role: "alert", hidden: true });

      async function onSubmit(event) {
        event.preventDefault();
        const text = comment.value.trim();
        errorLine.hidden = true;
        if (!text) {
          errorLine.textContent = "Say what to fix, so the person knows what to change.";
          errorLine.hidden = false;
          comment.focus();
          return;
        }
        const error = await decide("return", text);
        if (error) {
          errorLine.textContent = error instanceof ApiError && error.fieldErrors.comment ? error.fieldErrors.comment : error.message;
          errorLine.hidden = false;
        }
      }

      actions.replaceChildren(
        h(
          "form",
          { class: "return-form", onsubmit: onSubmit, novalidate: true, "aria-label": `Return the week of ${name}` },
          h("label", { for: commentId }, "What should be fixed?"),
          comment,
          errorLine,
          h(
            "div",
            { class: "form-actions" },
            h("button", { type: "submit", class: "danger" }, "Return week"),
            h("button", { type: "button", onclick: showButtons }, "Cancel"),
          ),
        ),
      );
      comment.focus();
    }

    showButtons();
    return row;
  }

  function showMissing(result) {
    missingTitle.textContent = `Not submitted: week of ${formatDate(result.week_start)}`;
    if (result.items.length === 0) {
      missingBody.replaceChildren(h("p", { class: "empty-state" }, "Everyone has submitted that week."));
      return;
    }
    missingBody.replaceChildren(
      h(
        "ul",
        { class: "member-list missing-list" },
        result.items.map((user) =>
          h(
            "li",
            { dataset: { user: user.id } },
            h("span", {}, personName(user), h("span", { class: "muted" }, ` (${user.username})`)),
            h("a", { href: `/grid?start=${result.week_start}&user=${user.id}` }, "Open week"),
          ),
        ),
      ),
      result.next_cursor ? h("p", { class: "muted" }, "Only the first 500 people are listed.") : null,
    );
  }

  load().catch(pageError);
  return { refresh: load };
}
