// "Admin": the period lock (lock date and grace days), problem reports grouped
// by error signature, and the download of the audit trail as CSV.

import { pageError } from "../app.js";
import { h, uniqueId } from "../dom.js";
import { formatDate, formatDateTime } from "../format.js";
import { ApiError, api, isAbort } from "../request.js";
import { field, showFieldErrors } from "../worklog-form.js";

const AUDIT_ENTITIES = [
  ["", "All changes"],
  ["work_log", "Work logs"],
  ["approval", "Approvals"],
  ["project", "Projects"],
  ["phase", "Phases"],
  ["membership", "Memberships"],
  ["user", "Users"],
  ["token", "API tokens"],
];
const REPORT_GROUPS_SHOWN = 50;

export function render({ main, signal }) {
  const lockForm = lockSection();
  const reportsBody = h("div", {}, h("p", { class: "muted" }, "Loading problem reports…"));

  main.append(
    h("h1", { tabindex: "-1" }, "Admin"),
    lockForm.element,
    h(
      "section",
      { class: "card", "aria-labelledby": "reports-title" },
      h("h2", { id: "reports-title" }, "Problem reports"),
      h("p", { class: "muted" }, "Reports sent with Report a problem, grouped by the signature of their last error; the newest group comes first."),
      reportsBody,
    ),
    auditSection(),
  );

  function lockSection() {
    const fields = {
      lock_date: field("Lock date", h("input", { id: uniqueId("lock-date"), type: "date" }), "Work logs on or before this date are locked. Leave empty for no lock."),
      grace_days: field(
        "Grace days",
        h("input", { id: uniqueId("grace-days"), type: "number", min: 0, max: 60, step: 1, value: "0" }),
        "Days after the end of each week during which it stays editable (0 to 60).",
      ),
    };
    const facts = h("p", { class: "muted" });
    const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "primary" }, "Save lock");

    function show(lock) {
      fields.lock_date.control.value = lock.lock_date || "";
      fields.grace_days.control.value = String(lock.grace_days);
      facts.textContent = lock.lock_date
        ? `Locked up to ${formatDate(lock.lock_date)} with ${lock.grace_days} grace days; last changed ${formatDateTime(lock.updated_at)}.`
        : "No period is locked.";
    }

    async function onSubmit(event) {
      event.preventDefault();
      for (const item of Object.values(fields)) item.setError("");
      message.textContent = "";
      const grace = fields.grace_days.control.value.trim();
      if (!/^\d+$/.test(grace)) {
        fields.grace_days.setError("Enter a whole number of days from 0 to 60.");
        fields.grace_days.control.focus();
        return;
      }
      save.disabled = true;
      try {
        const lock = await api.put("/lock", { lock_date: fields.lock_date.control.value || null, grace_days: Number(grace) }, { signal });
        show(lock);
        message.className = "form-message message-success";
        message.textContent = lock.lock_date ? `Saved: work logs up to ${formatDate(lock.lock_date)} are locked.` : "Saved: no period is locked.";
      } catch (error) {
        if (isAbort(error)) return;
        message.className = "form-message message-error";
        if (error instanceof ApiError && error.status === 422) {
          const leftover = showFieldErrors(error, fields);
          message.textContent = leftover.length ? `Not saved: ${leftover.join("; ")}` : "Not saved: correct the marked fields.";
        } else {
          message.textContent = `Not saved: ${error.message}`;
        }
      } finally {
        save.disabled = false;
      }
    }

    const element = h(
      "section",
      { class: "card", "aria-labelledby": "lock-title" },
      h("h2", { id: "lock-title" }, "Period lock"),
      facts,
      h(
        "form",
        { onsubmit: onSubmit, novalidate: true, "aria-label": "Period lock" },
        h("div", { class: "form-grid" }, fields.lock_date.element, fields.grace_days.element),
        message,
        h("div", { class: "form-actions" }, save),
      ),
    );
    return { element, show };
  }

  function reportGroup(group) {
    return h(
      "details",
      { class: "report-group", dataset: { signature: group.signature } },
      h(
        "summary",
        {},
        h("code", {}, group.signature),
        ` – ${group.count === 1 ? "1 report" : `${group.count} reports`}, last on ${formatDateTime(group.last_at)}`,
      ),
      h(
        "table",
        { class: "data compact" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Sent", "By", "Incident", "Page", "Comment", "Last error"].map((label) => h("th", { scope: "col" }, label)),
          ),
        ),
        h(
          "tbody",
          {},
          group.reports.map((report) => {
            const last = report.client_errors.length ? report.client_errors[report.client_errors.length - 1] : null;
            return h(
              "tr",
              { dataset: { report: report.id } },
              h("td", {}, formatDateTime(report.created_at)),
              h("td", {}, report.user || ""),
              h("td", {}, report.incident_id ? h("code", { class: "incident" }, report.incident_id) : "–"),
              h("td", {}, report.page),
              h("td", { class: "description" }, report.comment),
              h("td", { class: "description" }, last ? last.message : "–"),
            );
          }),
        ),
      ),
      group.count > group.reports.length ? h("p", { class: "muted" }, `Showing the ${group.reports.length} most recent reports of this group.`) : null,
    );
  }

  function auditSection() {
    const selectId = uniqueId("audit-entity");
    const select = h("select", { id: selectId }, AUDIT_ENTITIES.map(([value, label]) => h("option", { value }, label)));
    // The download is a plain link, so the browser streams the file to disk;
    // the session cookie authenticates it.
    const link = h("a", { class: "button", href: "/api/v1/audit/export.csv", download: "audit.csv" }, "Download audit CSV");
    select.addEventListener("change", () => {
      link.href = select.value ? `/api/v1/audit/export.csv?entity=${select.value}` : "/api/v1/audit/export.csv";
    });
    return h(
      "section",
      { class: "card", "aria-labelledby": "audit-title" },
      h("h2", { id: "audit-title" }, "Audit trail"),
      h("p", {}, "Every change of work logs, approvals, projects, phases, memberships, users and tokens: who, when, before and after, and the request id."),
      h("div", { class: "filters" }, h("div", { class: "field" }, h("label", { for: selectId }, "Changes of"), select), link),
    );
  }

  async function load() {
    const [lock, reports] = await Promise.all([
      api.get("/lock", { signal }),
      api.get(`/problem-reports?limit=${REPORT_GROUPS_SHOWN}`, { signal }),
    ]);
    lockForm.show(lock);
    reportsBody.replaceChildren(
      reports.items.length ? h("div", { class: "report-groups" }, reports.items.map(reportGroup)) : h("p", { class: "empty-state" }, "No problem reports."),
    );
  }

  load().catch(pageError);
  return { refresh: load };
}
