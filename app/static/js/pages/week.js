// "My week": the signed-in user's own work logs of one week, with daily and
// weekly totals, and adding, editing and deleting logs, and each log's history.

import { pageError } from "../app.js";
import { h, uniqueId } from "../dom.js";
import { addDays, formatDate, formatDateTime, formatHours, isIsoDate, mondayOf, todayIn } from "../format.js";
import { ApiError, api, fetchAll, isAbort } from "../request.js";
import { field, fieldRow, outboxPanel, showFieldErrors, workLogForm } from "../worklog-form.js";

const HISTORY_FIELDS = [
  ["hours", "hours"],
  ["work_date", "date"],
  ["project_id", "project"],
  ["phase_id", "phase"],
  ["description", "description"],
];
const ACTION_LABELS = { create: "created", update: "changed", delete: "deleted" };

function describeValue(name, value) {
  if (value === null || value === undefined || value === "") return "none";
  if (name === "hours") return `${formatHours(value)} h`;
  if (name === "project_id") return `project ${value}`;
  if (name === "phase_id") return `phase ${value}`;
  if (name === "work_date") return formatDate(value);
  return String(value);
}

// The changes of one audit event, such as "hours 8 h → 6 h".
function describeChanges(event) {
  const before = event.before || {};
  const after = event.after || {};
  if (event.action === "create") return `${describeValue("hours", after.hours)} on ${formatDate(after.work_date)}`;
  if (event.action === "delete") return `${describeValue("hours", before.hours)} on ${formatDate(before.work_date)}`;
  const changes = HISTORY_FIELDS.filter(([name]) => String(before[name]) !== String(after[name])).map(
    ([name, label]) => `${label} ${describeValue(name, before[name])} → ${describeValue(name, after[name])}`,
  );
  return changes.length ? changes.join("; ") : "no visible change";
}

// The audit events of one work log, oldest first.
function historyList(events) {
  if (events.length === 0) return h("p", { class: "muted" }, "No recorded changes.");
  return h(
    "ol",
    { class: "history-list" },
    events.map((event) =>
      h(
        "li",
        {},
        h("time", { datetime: event.at }, formatDateTime(event.at)),
        ` ${event.actor || "someone"} ${ACTION_LABELS[event.action] || event.action} it: ${describeChanges(event)}`,
      ),
    ),
  );
}

export function render({ main, me, query, signal }) {
  const today = todayIn(me.timezone);
  const requestedStart = query.get("start");
  const monday = mondayOf(isIsoDate(requestedStart) ? requestedStart : today);
  const sunday = addDays(monday, 6);

  const total = h("p", { class: "week-total", "aria-live": "polite" });
  const days = h("div", { class: "days" }, h("p", { class: "muted" }, "Loading work logs…"));
  const formSlot = h("div", {}, h("p", { class: "muted" }, "Loading projects…"));

  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", { tabindex: "-1" }, "My week"),
      h(
        "nav",
        { class: "week-nav", "aria-label": "Weeks" },
        h("a", { href: `/week?start=${addDays(monday, -7)}`, class: "button" }, "← Previous week"),
        h("span", { class: "week-range" }, `${formatDate(monday)} – ${formatDate(sunday)}`),
        h("a", { href: `/week?start=${addDays(monday, 7)}`, class: "button" }, "Next week →"),
        monday !== mondayOf(today) ? h("a", { href: "/week", class: "button" }, "This week") : null,
      ),
    ),
    total,
    h("section", { class: "card", "aria-labelledby": "add-log-title" }, h("h2", { id: "add-log-title" }, "Add work log"), formSlot),
    outboxPanel({ signal }),
    h("section", { "aria-label": "Work logs by day" }, days),
  );

  async function loadForm() {
    const projects = (await fetchAll("/projects", signal)).filter((project) => project.status !== "archived");
    const form = workLogForm({ me, projects, signal, onSaved: () => load().catch(pageError) });
    formSlot.replaceChildren(projects.length ? form.element : h("p", { class: "muted" }, "You are not a member of any open project yet."));
  }

  let generation = 0;

  async function load() {
    generation += 1;
    const mine = generation;
    const logs = await fetchAll(`/worklogs?user_id=${me.id}&from=${monday}&to=${sunday}`, signal);
    if (mine !== generation) return;
    showLogs(logs);
  }

  function showLogs(logs) {
    let weekTotal = 0;
    const sections = [];
    for (let offset = 0; offset < 7; offset += 1) {
      const day = addDays(monday, offset);
      const dayLogs = logs.filter((log) => log.work_date === day).sort((a, b) => a.id - b.id);
      const dayTotal = dayLogs.reduce((sum, log) => sum + Number(log.hours), 0);
      weekTotal += dayTotal;
      const headingId = `day-${day}`;
      sections.push(
        h(
          "section",
          { class: day === today ? "day card today" : "day card", "aria-labelledby": headingId, dataset: { date: day } },
          h(
            "h2",
            { id: headingId, class: "day-head" },
            h("span", {}, formatDate(day), day === today ? h("span", { class: "tag" }, "today") : null),
            h("span", { class: "day-total" }, `${formatHours(dayTotal)} h`),
          ),
          dayLogs.length
            ? h(
                "table",
                { class: "logs" },
                h(
                  "thead",
                  { class: "visually-hidden" },
                  h("tr", {}, ["Project", "Phase", "Hours", "Description", "Actions"].map((label) => h("th", { scope: "col" }, label))),
                ),
                h("tbody", {}, dayLogs.map((log) => logRow(log))),
              )
            : h("p", { class: "muted empty" }, "No work logged."),
        ),
      );
    }
    total.textContent = `Week total: ${formatHours(weekTotal)} h`;
    days.replaceChildren(...sections);
  }

  function logRow(log) {
    const row = h(
      "tr",
      { dataset: { worklog: log.id } },
      h("td", {}, h("a", { href: `/projects/${log.project_id}` }, log.project_name)),
      h("td", {}, log.phase_name || h("span", { class: "muted" }, "no phase")),
      h("td", { class: "number" }, `${formatHours(log.hours)} h`),
      h("td", { class: "description" }, log.description),
      h(
        "td",
        { class: "actions" },
        h("button", { type: "button", class: "link-button", onclick: () => editRow(row, log) }, "Edit"),
        h(
          "button",
          { type: "button", class: "link-button", "aria-expanded": "false", onclick: (event) => toggleHistory(row, log, event.currentTarget) },
          "History",
        ),
        h("button", { type: "button", class: "link-button danger", onclick: () => confirmDelete(row, log) }, "Delete"),
      ),
    );
    return row;
  }

  async function toggleHistory(row, log, button) {
    const open = row.nextElementSibling && row.nextElementSibling.dataset.historyOf === String(log.id);
    if (open) {
      row.nextElementSibling.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const body = h("td", { colspan: 5, class: "history" }, h("p", { class: "muted" }, "Loading the history…"));
    row.after(h("tr", { class: "history-row", dataset: { historyOf: log.id } }, body));
    button.setAttribute("aria-expanded", "true");
    try {
      const history = await api.get(`/worklogs/${log.id}/history`, { signal });
      body.replaceChildren(historyList(history.items));
    } catch (error) {
      if (isAbort(error)) return;
      body.replaceChildren(h("p", { class: "message message-error" }, `The history could not be loaded: ${error.message}`));
    }
  }

  function confirmDelete(row, log) {
    const message = h("span", { role: "status" }, "");
    const yes = h(
      "button",
      {
        type: "button",
        class: "danger",
        onclick: async () => {
          yes.disabled = true;
          try {
            await api.delete(`/worklogs/${log.id}`, { signal });
            await load();
          } catch (error) {
            if (isAbort(error)) return;
            if (error instanceof ApiError && error.status === 404) {
              await load();
              return;
            }
            yes.disabled = false;
            message.textContent = error.message;
          }
        },
      },
      "Delete",
    );
    const cell = h(
      "td",
      { colspan: 5, class: "confirm" },
      `Delete ${formatHours(log.hours)} h on ${log.project_name}? `,
      yes,
      h("button", { type: "button", onclick: () => row.replaceWith(logRow(log)) }, "Cancel"),
      message,
    );
    row.replaceChildren(cell);
    yes.focus();
  }

  function editRow(row, log) {
    const fields = {
      work_date: field("Date", h("input", { id: uniqueId("edit-date"), type: "date", value: log.work_date, max: addDays(today, 1) })),
      hours: field("Hours", h("input", { id: uniqueId("edit-hours"), value: formatHours(log.hours), inputmode: "decimal" })),
      description: field(
        "Description",
        h("textarea", { id: uniqueId("edit-description"), rows: 2, maxlength: 1024 }, log.description),
      ),
    };
    const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "primary" }, "Save");

    async function onSubmit(event) {
      event.preventDefault();
      for (const item of Object.values(fields)) item.setError("");
      message.textContent = "";
      save.disabled = true;
      try {
        await api.patch(
          `/worklogs/${log.id}`,
          {
            work_date: fields.work_date.control.value,
            hours: fields.hours.control.value.trim(),
            description: fields.description.control.value,
          },
          { signal },
        );
        await load();
      } catch (error) {
        if (isAbort(error)) return;
        save.disabled = false;
        if (error instanceof ApiError && error.status === 422) {
          const leftover = showFieldErrors(error, fields);
          message.textContent = leftover.length ? leftover.join("; ") : "Correct the marked fields.";
        } else {
          message.textContent = error.message;
        }
        message.className = "form-message message-error";
      }
    }

    const form = h(
      "form",
      { class: "edit-form", onsubmit: onSubmit, novalidate: true, "aria-label": `Edit work log on ${log.project_name}` },
      fieldRow(fields.work_date, fields.hours, fields.description),
      message,
      h(
        "div",
        { class: "form-actions" },
        save,
        h("button", { type: "button", onclick: () => row.replaceWith(logRow(log)) }, "Cancel"),
      ),
    );
    row.replaceChildren(h("td", { colspan: 5 }, h("p", { class: "edit-title" }, `${log.project_name}${log.phase_name ? ` / ${log.phase_name}` : ""}`), form));
    fields.hours.control.focus();
  }

  loadForm().catch(pageError);
  load().catch(pageError);
  return { refresh: load };
}
