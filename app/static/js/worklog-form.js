// The "add work log" form, shared by My week and the project page, and the
// panel that lists work logs still waiting in the outbox.
//
// Hours are sent as typed ("8", "7:30", "8h"); the API reads them and its 422
// field messages are shown next to the matching field. The form warns, but
// does not stop the user, when the hours would take a phase over its plan.

import { h, uniqueId } from "./dom.js";
import { addDays, formatDate, formatHours, parseHours, todayIn } from "./format.js";
import { addWorkLog, discard, dismissRejection, outbox, pendingEntries, recentRejections } from "./outbox.js";
import { ApiError, api, isAbort } from "./request.js";

// A labelled form field with a hint and an error line tied to the control.
export function field(label, control, hintText = "") {
  const errorLine = h("p", { class: "field-error", id: `${control.id}-error`, hidden: true });
  const hint = hintText ? h("p", { class: "field-hint", id: `${control.id}-hint` }, hintText) : null;
  control.setAttribute("aria-describedby", [hint && hint.id, errorLine.id].filter(Boolean).join(" "));
  const wrapper = h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint, errorLine);
  let prefix = "";
  return {
    element: wrapper,
    control,
    hint,
    // Show the error line in `container` instead of under the control, led
    // by the field's label so that it still names its field.
    moveErrorTo(container) {
      container.append(errorLine);
      prefix = `${label}: `;
    },
    setError(message) {
      errorLine.textContent = message ? `${prefix}${message}` : "";
      errorLine.hidden = !message;
      if (message) {
        control.setAttribute("aria-invalid", "true");
      } else {
        control.removeAttribute("aria-invalid");
      }
    },
  };
}

// Build a grid of fields with their error lines below it across the full
// width, because a grid column is too narrow for a long message such as the
// daily 24 h limit.
export function fieldRow(...items) {
  const errors = h("div", { class: "field-row-errors" });
  for (const item of items) item.moveErrorTo(errors);
  return h("div", { class: "field-row" }, h("div", { class: "form-grid" }, items.map((item) => item.element)), errors);
}

// Show each field error of a 422 beside its field; return the messages left over.
export function showFieldErrors(error, fields) {
  const leftover = [];
  for (const [name, message] of Object.entries(error.fieldErrors)) {
    if (fields[name]) {
      fields[name].setError(message);
    } else {
      leftover.push(`${name}: ${message}`);
    }
  }
  const first = Object.keys(error.fieldErrors).find((name) => fields[name]);
  if (first) fields[first].control.focus();
  return leftover;
}

// One line for a waiting entry: what it logs and the start of its description.
function describeEntry(entry) {
  const text = describe(entry.body, entry.labels || {});
  const description = (entry.body.description || "").trim();
  if (!description) return text;
  return `${text}: “${description.length > 80 ? `${description.slice(0, 79)}…` : description}”`;
}

function describe(body, labels) {
  const where = [labels.project, labels.phase].filter(Boolean).join(" / ");
  const hours = parseHours(body.hours);
  return `${hours === null ? body.hours : formatHours(hours)} h on ${where} for ${formatDate(body.work_date)}`;
}

// Build the form. `projects` are the projects the user may log on;
// `projectId` preselects one. `onSaved(worklog)` runs after the server
// confirmed a log, so the page can reload its data.
export function workLogForm({ me, projects, projectId, signal, onSaved }) {
  const today = todayIn(me.timezone);
  const fields = {
    project_id: field("Project", h("select", { id: uniqueId("log-project"), name: "project_id", required: true })),
    phase_id: field("Phase", h("select", { id: uniqueId("log-phase"), name: "phase_id" })),
    work_date: field(
      "Date",
      h("input", { id: uniqueId("log-date"), name: "work_date", type: "date", value: today, max: addDays(today, 1), required: true }),
    ),
    hours: field(
      "Hours",
      h("input", {
        id: uniqueId("log-hours"),
        name: "hours",
        inputmode: "decimal",
        autocomplete: "off",
        placeholder: "8",
        required: true,
      }),
      "For example 8, 7.5, 7:30 or 8h.",
    ),
    description: field(
      "Description",
      h("textarea", { id: uniqueId("log-description"), name: "description", rows: 2, maxlength: 1024 }),
    ),
  };
  const budget = h("p", { class: "budget", "aria-live": "polite" });
  const warning = h("p", { class: "message message-warning", role: "status", hidden: true });
  const status = h("div", { class: "form-message", role: "status", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Add work log");
  let phases = [];
  let phaseLoad = null;

  const projectSelect = fields.project_id.control;
  const phaseSelect = fields.phase_id.control;
  const hoursInput = fields.hours.control;

  projectSelect.append(h("option", { value: "" }, "Choose a project"));
  for (const project of projects) {
    projectSelect.append(h("option", { value: project.id }, project.code ? `${project.name} (${project.code})` : project.name));
  }
  if (projectId) projectSelect.value = String(projectId);

  async function loadPhases() {
    const chosen = projectSelect.value;
    if (!chosen) {
      phases = [];
      phaseSelect.disabled = true;
      phaseSelect.replaceChildren(h("option", { value: "" }, "Choose a project first"));
      updateBudget();
      return;
    }
    // Keep the current options while the same project's phases reload, so a
    // refresh after saving does not empty the list.
    if (phaseSelect.dataset.project !== chosen) {
      phases = [];
      phaseSelect.disabled = true;
      phaseSelect.replaceChildren(h("option", { value: "" }, "Loading phases…"));
      updateBudget();
    }

    const selectedPhaseId = phaseSelect.value;
    const detail = await api.get(`/projects/${chosen}`, { signal });
    if (projectSelect.value !== chosen) return;

    phases = detail.phases;
    phaseSelect.dataset.project = chosen;
    phaseSelect.replaceChildren();
    if (phases.length === 0) {
      phaseSelect.disabled = true;
      phaseSelect.append(h("option", { value: "" }, "No phases"));
    } else {
      phaseSelect.disabled = false;
      phaseSelect.append(h("option", { value: "" }, "Choose a phase"));
      for (const phase of phases) phaseSelect.append(h("option", { value: phase.id }, phase.name));
      if (phases.some((phase) => String(phase.id) === selectedPhaseId)) phaseSelect.value = selectedPhaseId;
    }
    updateBudget();
  }

  function reloadPhases() {
    phaseLoad = loadPhases().catch((error) => {
      if (isAbort(error)) return;
      status.className = "form-message message-error";
      status.textContent = error instanceof ApiError ? error.message : "The phases could not be loaded.";
    });
    return phaseLoad;
  }

  function selectedPhase() {
    return phases.find((phase) => String(phase.id) === phaseSelect.value) || null;
  }

  function updateBudget() {
    const phase = selectedPhase();
    warning.hidden = true;
    warning.textContent = "";
    if (!phase) {
      budget.textContent = "";
      return;
    }
    if (phase.planned_hours === null) {
      budget.textContent = `Phase ${phase.name} has no planned hours; ${formatHours(phase.logged_hours)} h logged so far.`;
      return;
    }
    const remaining = Number(phase.remaining_hours);
    budget.textContent =
      remaining >= 0
        ? `Remaining in ${phase.name}: ${formatHours(remaining)} h of ${formatHours(phase.planned_hours)} h planned.`
        : `${phase.name} is already ${formatHours(-remaining)} h over its ${formatHours(phase.planned_hours)} h plan.`;
    const hours = parseHours(hoursInput.value);
    if (hours !== null && hours > remaining) {
      const over = hours - Math.max(remaining, 0);
      warning.textContent =
        remaining > 0
          ? `This log would overbook ${phase.name} by ${formatHours(over)} h. You can still save it.`
          : `${phase.name} has no planned hours left; this log adds ${formatHours(hours)} h over plan. You can still save it.`;
      warning.hidden = false;
    }
  }

  function clearErrors() {
    for (const item of Object.values(fields)) item.setError("");
    status.textContent = "";
    status.className = "form-message";
  }

  function setStatus(kind, text) {
    status.className = `form-message message-${kind}`;
    status.textContent = text;
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearErrors();
    if (!projectSelect.value) {
      fields.project_id.setError("Choose a project.");
      projectSelect.focus();
      return;
    }
    if (!hoursInput.value.trim()) {
      fields.hours.setError("Enter the hours, such as 8 or 7:30.");
      hoursInput.focus();
      return;
    }
    if (phaseLoad) await phaseLoad;

    const body = {
      project_id: Number(projectSelect.value),
      phase_id: phaseSelect.value ? Number(phaseSelect.value) : null,
      work_date: fields.work_date.control.value,
      hours: hoursInput.value.trim(),
      description: fields.description.control.value,
    };
    const labels = {
      project: projectSelect.selectedOptions[0].textContent,
      phase: selectedPhase() ? selectedPhase().name : null,
    };
    const text = describe(body, labels);

    let parked = false;
    submit.disabled = true;
    setStatus("info", "Saving…");
    try {
      const worklog = await addWorkLog(body, labels, {
        onParked: () => {
          if (parked) return;
          parked = true;
          submit.disabled = false;
          setStatus(
            "warning",
            `Track cannot send this right now. The work log (${text}) is stored in this browser and is sent automatically as soon as the server accepts requests again.`,
          );
          resetEntry();
        },
      });
      const warnings = (worklog.warnings || []).join(" ");
      setStatus(warnings ? "warning" : "success", `Saved: ${text}.${warnings ? ` ${warnings}` : ""}`);
      if (!parked) resetEntry();
      if (onSaved) onSaved(worklog);
      reloadPhases();
    } catch (error) {
      if (isAbort(error)) return;
      if (parked) {
        setStatus("error", `The stored work log (${text}) was not saved: ${error.message}`);
      } else if (error instanceof ApiError && error.status === 422) {
        const leftover = showFieldErrors(error, fields);
        setStatus("error", leftover.length ? `Not saved: ${leftover.join("; ")}` : "Not saved: correct the marked fields.");
      } else {
        setStatus("error", `Not saved: ${error.message}`);
      }
    } finally {
      if (!parked) submit.disabled = false;
    }
  }

  function resetEntry() {
    hoursInput.value = "";
    fields.description.control.value = "";
    updateBudget();
  }

  projectSelect.addEventListener("change", reloadPhases);
  phaseSelect.addEventListener("change", updateBudget);
  hoursInput.addEventListener("input", updateBudget);

  const element = h(
    "form",
    { class: "worklog-form", onsubmit: onSubmit, novalidate: true, "aria-label": "Add work log" },
    fieldRow(fields.project_id, fields.phase_id, fields.work_date, fields.hours),
    budget,
    fields.description.element,
    warning,
    status,
    h("div", { class: "form-actions" }, submit),
  );
  reloadPhases();
  return { element, reloadPhases };
}

// The list of work logs waiting in this browser's outbox, and of stored logs
// the server rejected. It hides itself when both are empty.
export function outboxPanel({ signal }) {
  const list = h("ul", { class: "outbox-list" });
  const section = h(
    "section",
    { class: "card outbox", "aria-labelledby": "outbox-title", hidden: true },
    h("h2", { id: "outbox-title" }, "Waiting to be sent"),
    h("p", { class: "muted" }, "These work logs are stored in this browser until the server confirms them."),
    list,
  );

  function update() {
    const pending = pendingEntries();
    const rejected = recentRejections();
    list.replaceChildren(
      ...pending.map((entry) =>
        h(
          "li",
          { dataset: { key: entry.key } },
          h("span", {}, describeEntry(entry)),
          h("button", { type: "button", class: "link-button", onclick: () => discard(entry.key) }, "Discard"),
        ),
      ),
      ...rejected.map(({ entry, error }) =>
        h(
          "li",
          { class: "rejected" },
          h("span", {}, `Not saved: ${describeEntry(entry)}. ${error.message}`),
          h("button", { type: "button", class: "link-button", onclick: () => dismissRejection(entry.key) }, "Dismiss"),
        ),
      ),
    );
    section.hidden = pending.length === 0 && rejected.length === 0;
  }

  outbox.addEventListener("changed", update, { signal });
  outbox.addEventListener("saved", update, { signal });
  outbox.addEventListener("rejected", update, { signal });
  update();
  return section;
}
