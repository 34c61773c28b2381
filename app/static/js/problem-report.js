// The "Report a problem" dialog: an optional comment, sent with the incident
// id of the failed request, the page address and the browser's recent
// client-side errors to POST /api/v1/problem-reports.

import { recentClientErrors } from "./client-errors.js";
import { h, uniqueId } from "./dom.js";
import { ApiError, api } from "./request.js";

// The API accepts at most this many client errors per report.
const MAX_REPORT_ERRORS = 20;

let openDialog = null;

// Open the dialog. `incidentId` is the id from a 500 response, or null when
// the problem has none (a lost connection).
export function openProblemReport({ incidentId = null } = {}) {
  if (openDialog) openDialog.close();
  const errors = recentClientErrors().slice(-MAX_REPORT_ERRORS);
  const commentId = uniqueId("report-comment");
  const comment = h("textarea", { id: commentId, rows: 4, maxlength: 4000 });
  const status = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary" }, "Send report");
  const cancel = h("button", { type: "button", onclick: () => dialog.close() }, "Cancel");

  const facts = [
    incidentId ? h("li", {}, "Incident ", h("code", { dataset: { incident: incidentId } }, incidentId)) : null,
    h("li", {}, "This page: ", h("code", {}, location.pathname + location.search)),
    h("li", {}, errors.length === 1 ? "1 recent error from this browser" : `${errors.length} recent errors from this browser`),
  ];

  function setStatus(kind, text) {
    status.className = `form-message message-${kind}`;
    status.textContent = text;
  }

  async function onSubmit(event) {
    event.preventDefault();
    send.disabled = true;
    setStatus("info", "Sending…");
    const body = {
      incident_id: incidentId,
      page: (location.pathname + location.search).slice(0, 500),
      comment: comment.value.trim(),
      client_errors: errors,
    };
    try {
      const report = await api.post("/problem-reports", body, {
        reportFailure: false,
        ownRateLimit: true,
        onParked: () => setStatus("warning", "The server cannot be reached; Track sends the report when it is back."),
      });
      setStatus("success", `Report ${report.id} sent. Thank you; an admin will look at it.`);
      send.hidden = true;
      cancel.textContent = "Close";
      cancel.focus();
    } catch (error) {
      send.disabled = false;
      setStatus("error", `The report was not sent: ${error instanceof ApiError ? error.message : "the server could not be reached."}`);
    }
  }

  const titleId = uniqueId("report-title");
  const dialog = h(
    "dialog",
    { class: "report-dialog", "aria-labelledby": titleId },
    h(
      "form",
      { onsubmit: onSubmit, novalidate: true },
      h("h2", { id: titleId }, "Report a problem"),
      h("p", {}, "Track sends this to the admins, so they can find what went wrong:"),
      h("ul", {}, facts),
      h(
        "div",
        { class: "field" },
        h("label", { for: commentId }, "What were you doing? (optional)"),
        comment,
      ),
      status,
      h("div", { class: "form-actions" }, send, cancel),
    ),
  );
  dialog.addEventListener("close", () => {
    // A report already sent on its way is not cancelled: closing the dialog
    // only hides it.
    dialog.remove();
    if (openDialog === dialog) openDialog = null;
  });
  document.body.append(dialog);
  openDialog = dialog;
  dialog.showModal();
  comment.focus();
  return dialog;
}
