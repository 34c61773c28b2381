// "Week grid": one week as a table of (project, phase) rows and Monday to
// Sunday columns, with totals per row, day and week. Typing hours in a cell
// saves it through the cell outbox; clearing a cell deletes its work log.
// The user submits the week from here, and the page shows its approval status.
//
// Managers can open another person's week read-only with ?user=ID.

import { isManager, pageError } from "../app.js";
import { cellId, cellOutbox, flushCells, pendingCells, saveCell } from "../cell-outbox.js";
import { h, uniqueId } from "../dom.js";
import { addDays, formatDate, formatHours, isIsoDate, mondayOf, parseHours, todayIn } from "../format.js";
import { ApiError, api, fetchAll, isAbort } from "../request.js";

// The accessible name of a cell spells the day out ("Saturday 28 November"),
// which reads better aloud than the short form shown on the page.
const SPOKEN_DAY_FORMAT = { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" };

function spokenDay(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString("en-GB", SPOKEN_DAY_FORMAT);
}

// The API takes hours up to tomorrow in the user's time zone.
const NOT_OPEN_REASON = "Hours can be entered up to tomorrow.";

function rowKey(projectId, phaseId) {
  return `${projectId}:${phaseId || ""}`;
}

function rowLabel(row) {
  return row.phase_name ? `${row.project_name} / ${row.phase_name}` : row.project_name;
}

// The message of a rejected cell write: the API's field messages, or its detail.
function cellMessage(error) {
  if (!(error instanceof ApiError)) return "The hours could not be saved.";
  const fields = Object.values(error.fieldErrors);
  return fields.length ? fields.join("; ") : error.message;
}

export function render({ main, me, query, signal, setTitle }) {
  const today = todayIn(me.timezone);
  const requestedStart = query.get("start");
  const monday = mondayOf(isIsoDate(requestedStart) ? requestedStart : today);
  const days = Array.from({ length: 7 }, (_, offset) => addDays(monday, offset));
  const lastOpenDay = addDays(today, 1);
  const requestedUser = Number(query.get("user"));
  const ownerId = isManager(me) && requestedUser > 0 ? requestedUser : me.id;
  const ownWeek = ownerId === me.id;
  const userSuffix = ownWeek ? "" : `&user=${ownerId}`;

  // Rows by rowKey; each cell is {hours, logIds, pending, error, latestKey}.
  const rows = new Map();
  // Rows added with "Add row" or "Copy last week's rows" that have no hours
  // yet; they stay on the page across reloads of the week's data.
  const addedRows = [];
  let week = null;
  let generation = 0;
  // Set when a write had to wait for the server, or was left from an earlier
  // visit, so the note about waiting changes does not flash on every save.
  let writesWaited = pendingCells().length > 0;

  const heading = h("h1", { tabindex: "-1" }, ownWeek ? "Week grid" : "Week");
  const status = h("div", { class: "week-status", "aria-live": "polite" });
  const weekTotal = h("p", { class: "week-total", "aria-live": "polite" });
  const notes = h("ul", { class: "grid-notes" });
  const pendingNote = h("p", { class: "message message-warning", role: "status", hidden: true });
  const tableSlot = h("div", { class: "card table-card" }, h("p", { class: "muted grid-loading" }, "Loading the week…"));
  const actionMessage = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const submitButton = h("button", { type: "button", class: "primary", onclick: submitWeek }, "Submit week");

  main.append(
    h(
      "div",
      { class: "page-head" },
      heading,
      h(
        "nav",
        { class: "week-nav", "aria-label": "Weeks" },
        h("a", { href: `/grid?start=${addDays(monday, -7)}${userSuffix}`, class: "button" }, "← Previous week"),
        h("span", { class: "week-range" }, `${formatDate(monday)} – ${formatDate(days[6])}`),
        h("a", { href: `/grid?start=${addDays(monday, 7)}${userSuffix}`, class: "button" }, "Next week →"),
        monday !== mondayOf(today) ? h("a", { href: `/grid${ownWeek ? "" : `?user=${ownerId}`}`, class: "button" }, "This week") : null,
      ),
    ),
    status,
    weekTotal,
    pendingNote,
    tableSlot,
    notes,
    ownWeek ? rowTools() : null,
    actionMessage,
    ownWeek ? h("div", { class: "form-actions grid-actions" }, submitButton) : null,
  );

  // --- Loading --------------------------------------------------------------

  async function load() {
    generation += 1;
    const mine = generation;
    const suffix = ownWeek ? "" : `?user_id=${ownerId}`;
    const data = await api.get(`/weeks/${monday}${suffix}`, { signal });
    if (mine !== generation) return;
    week = data;
    if (!ownWeek) {
      const name = data.user.display_name || data.user.username;
      heading.textContent = `Week of ${name}`;
      setTitle(`Week of ${name}`);
    }
    rows.clear();
    for (const row of data.rows) addRow(row);
    for (const row of addedRows) addRow(row);
    if (ownWeek) {
      for (const entry of pendingCells()) {
        if (!days.includes(entry.body.work_date)) continue;
        const row = addRow({
          project_id: entry.body.project_id,
          phase_id: entry.body.phase_id,
          project_name: entry.labels.project,
          phase_name: entry.labels.phase,
        });
        const cell = cellOf(row, entry.body.work_date);
        cell.pending = entry.body.hours || "";
        cell.latestKey = entry.key;
      }
    }
    showTable();
    showStatus();
  }

  function addRow(source) {
    const key = rowKey(source.project_id, source.phase_id);
    let row = rows.get(key);
    if (!row) {
      row = {
        key,
        project_id: source.project_id,
        phase_id: source.phase_id || null,
        project_name: source.project_name,
        phase_name: source.phase_name || null,
        cells: {},
      };
      rows.set(key, row);
    }
    for (const [date, cell] of Object.entries(source.cells || {})) {
      Object.assign(cellOf(row, date), { hours: Number(cell.hours), logIds: cell.log_ids });
    }
    return row;
  }

  function cellOf(row, date) {
    if (!row.cells[date]) row.cells[date] = { hours: null, logIds: [], pending: null, error: "", latestKey: null };
    return row.cells[date];
  }

  function isPending(cell) {
    return Boolean(cell) && cell.pending !== null && cell.pending !== undefined;
  }

  // Return the text a cell shows: a waiting write as typed, else the saved hours.
  function cellText(cell) {
    if (isPending(cell)) return cell.pending;
    if (cell && cell.hours) return formatHours(cell.hours);
    return "";
  }

  // Return the hours a cell adds to the totals; a waiting write counts as typed.
  function effectiveHours(cell) {
    if (!cell) return 0;
    if (isPending(cell)) return parseHours(cell.pending) || 0;
    return cell.hours || 0;
  }

  // --- Read-only rules ------------------------------------------------------

  // Return why the whole week cannot change, or "" when it can.
  function weekReadOnlyReason() {
    if (!ownWeek) return "You are viewing another person's week.";
    if (me.role === "admin" || !week || !week.submission) return "";
    if (week.submission.status === "approved") return "This week is approved, so its hours can no longer change.";
    if (week.submission.status === "submitted") {
      return "This week is submitted and waiting for approval; ask a manager to return it if you need to change it.";
    }
    return "";
  }

  function cellReadOnlyReason(cell, date) {
    const weekReason = weekReadOnlyReason();
    if (weekReason) return weekReason;
    if (date > lastOpenDay) return NOT_OPEN_REASON;
    if (me.role !== "admin" && week && week.locked[date]) return week.locked[date];
    if (cell && cell.logIds.length > 1) {
      return `This cell holds ${cell.logIds.length} work logs; change them one by one in My week.`;
    }
    return "";
  }

  // --- Table ----------------------------------------------------------------

  function showTable() {
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.cell : null;
    const typed = focused ? document.activeElement.value : null;
    const rowList = [...rows.values()];
    if (rowList.length === 0) {
      tableSlot.replaceChildren(
        h(
          "p",
          { class: "empty-state" },
          ownWeek ? "No hours in this week yet. Add a row below, or copy last week's rows." : "No hours in this week.",
        ),
      );
    } else {
      tableSlot.replaceChildren(buildTable(rowList));
    }
    showNotes();
    updateTotals();
    if (focused) {
      const input = tableSlot.querySelector(`input[data-cell="${focused}"]`);
      if (input) {
        input.value = typed;
        input.focus();
      }
    }
  }

  function buildTable(rowList) {
    const head = h(
      "tr",
      {},
      h("th", { scope: "col" }, "Project / phase"),
      days.map((date) =>
        h(
          "th",
          {
            scope: "col",
            class: date === today ? "number today" : "number",
            dataset: { date },
          },
          // The week range above the grid shows the year.
          formatDate(date, { withYear: false }),
          week && week.locked[date] ? h("span", { class: "tag tag-locked", title: week.locked[date] }, "locked") : null,
        ),
      ),
      h("th", { scope: "col", class: "number" }, "Total"),
    );
    const body = rowList.map((row, rowIndex) =>
      h(
        "tr",
        { dataset: { row: row.key } },
        h("th", { scope: "row" }, rowLabel(row)),
        days.map((date, column) => cellElement(row, date, rowIndex, column)),
        h("td", { class: "number row-total", dataset: { rowTotal: row.key } }),
      ),
    );
    const foot = h(
      "tr",
      {},
      h("th", { scope: "row" }, "Day total"),
      days.map((date) => h("td", { class: "number day-total", dataset: { dayTotal: date } })),
      h("td", { class: "number week-sum", dataset: { weekTotal: "" } }),
    );
    return h(
      "table",
      { class: "data grid", onkeydown: onKeyDown },
      h("caption", { class: "visually-hidden" }, `Hours from ${formatDate(days[0])} to ${formatDate(days[6])}`),
      h("thead", {}, head),
      h("tbody", {}, body),
      h("tfoot", {}, foot),
    );
  }

  function cellElement(row, date, rowIndex, column) {
    const cell = row.cells[date];
    const reason = cellReadOnlyReason(cell, date);
    const shown = cellText(cell);
    const errorId = uniqueId("cell-error");
    const input = h("input", {
      type: "text",
      inputmode: "decimal",
      autocomplete: "off",
      class: "cell-input",
      value: shown,
      readonly: Boolean(reason),
      title: reason || null,
      "aria-label": `${rowLabel(row)}, ${spokenDay(date)}`,
      "aria-describedby": errorId,
      "aria-invalid": cell && cell.error ? "true" : null,
      dataset: { cell: cellId({ project_id: row.project_id, phase_id: row.phase_id, work_date: date }), row: rowIndex, column, date, sent: shown },
      onfocus: (event) => event.target.select(),
      onchange: (event) => commit(event.target),
    });
    const error = h("p", { class: "cell-error", id: errorId, role: "alert", hidden: !(cell && cell.error) }, (cell && cell.error) || "");
    const classes = ["cell"];
    if (reason) classes.push("cell-readonly");
    if (isPending(cell)) classes.push("cell-pending");
    return h("td", { class: classes.join(" ") }, input, error);
  }

  function showNotes() {
    const items = [];
    const weekReason = weekReadOnlyReason();
    if (weekReason && ownWeek) items.push(h("li", {}, weekReason));
    if (ownWeek && !weekReason && days[6] > lastOpenDay) {
      const first = days.find((date) => date > lastOpenDay);
      items.push(h("li", { dataset: { notOpen: first } }, `Days from ${formatDate(first)} on are read-only for now. ${NOT_OPEN_REASON}`));
    }
    if (week && !weekReason) {
      for (const date of days) {
        if (!week.locked[date]) continue;
        const suffix = me.role === "admin" ? " As an admin you can still change it." : "";
        items.push(h("li", { dataset: { lockedDay: date } }, `${formatDate(date)} is read-only: ${week.locked[date]}.${suffix}`));
      }
    }
    notes.replaceChildren(...items);
    notes.hidden = items.length === 0;
  }

  function updateTotals() {
    let total = 0;
    for (const row of rows.values()) {
      const rowTotal = days.reduce((sum, date) => sum + effectiveHours(row.cells[date]), 0);
      total += rowTotal;
      const element = tableSlot.querySelector(`[data-row-total="${row.key}"]`);
      if (element) element.textContent = formatHours(rowTotal);
    }
    for (const date of days) {
      const dayTotal = [...rows.values()].reduce((sum, row) => sum + effectiveHours(row.cells[date]), 0);
      const element = tableSlot.querySelector(`[data-day-total="${date}"]`);
      if (element) {
        element.textContent = formatHours(dayTotal);
        element.classList.toggle("over", dayTotal > 24);
      }
    }
    const element = tableSlot.querySelector("[data-week-total]");
    if (element) element.textContent = formatHours(total);
    weekTotal.textContent = `Week total: ${formatHours(total)} h`;
    const waiting = pendingCells().filter((entry) => days.includes(entry.body.work_date)).length;
    if (waiting === 0) writesWaited = false;
    pendingNote.hidden = waiting === 0 || !writesWaited;
    pendingNote.textContent =
      waiting === 1
        ? "1 change is waiting to be sent. It is stored in this browser and sent when the server accepts it."
        : `${waiting} changes are waiting to be sent. They are stored in this browser and sent when the server accepts them.`;
  }

  // --- Saving cells -----------------------------------------------------------

  function findRow(input) {
    const [projectId, phaseId] = input.dataset.cell.split(":");
    return rows.get(rowKey(Number(projectId), phaseId ? Number(phaseId) : null));
  }

  function commit(input) {
    if (input.readOnly) return;
    const text = input.value.trim();
    if (text === input.dataset.sent) return;
    input.dataset.sent = text;
    const row = findRow(input);
    const date = input.dataset.date;
    const cell = cellOf(row, date);
    const entry = saveCell(
      { project_id: row.project_id, phase_id: row.phase_id, work_date: date, hours: text || null },
      { project: row.project_name, phase: row.phase_name },
    );
    cell.pending = text;
    cell.latestKey = entry.key;
    setCellError(input, "");
    input.parentElement.classList.add("cell-pending");
    updateTotals();
  }

  function inputFor(id) {
    return tableSlot.querySelector(`input[data-cell="${id}"]`);
  }

  function setCellError(input, message) {
    const cell = cellOf(findRow(input), input.dataset.date);
    cell.error = message;
    const line = input.parentElement.querySelector(".cell-error");
    line.textContent = message;
    line.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  function entryRow(entry) {
    if (!days.includes(entry.body.work_date) || entry.username !== me.username) return null;
    return rows.get(rowKey(entry.body.project_id, entry.body.phase_id)) || null;
  }

  function onSaved(event) {
    const { entry, result } = event.detail;
    const row = entryRow(entry);
    if (!row) return;
    const cell = cellOf(row, entry.body.work_date);
    cell.hours = result.hours === null ? null : Number(result.hours);
    cell.logIds = result.log_id ? [result.log_id] : [];
    if (cell.latestKey !== entry.key) return;
    cell.pending = null;
    const input = inputFor(entry.cell);
    if (input) {
      input.parentElement.classList.remove("cell-pending");
      setCellError(input, "");
      // Show the saved value as the API read it ("7:30" becomes "7.5"),
      // unless the user has typed something else since.
      if (input.value.trim() === (entry.body.hours || "")) {
        const shown = cell.hours ? formatHours(cell.hours) : "";
        input.value = shown;
        input.dataset.sent = shown;
        if (document.activeElement === input) input.select();
      }
    }
    updateTotals();
  }

  function onRejected(event) {
    const { entry, error } = event.detail;
    const row = entryRow(entry);
    if (!row) return;
    const cell = cellOf(row, entry.body.work_date);
    if (cell.latestKey !== entry.key) return;
    cell.pending = null;
    const input = inputFor(entry.cell);
    if (input) {
      input.parentElement.classList.remove("cell-pending");
      setCellError(input, cellMessage(error));
    } else {
      cell.error = cellMessage(error);
    }
    updateTotals();
    // A week submitted or approved elsewhere, or a new lock: reload the rules.
    if (error instanceof ApiError && error.status === 409) load().catch(pageError);
  }

  cellOutbox.addEventListener("saved", onSaved, { signal });
  cellOutbox.addEventListener("rejected", onRejected, { signal });
  cellOutbox.addEventListener("changed", () => updateTotals(), { signal });
  cellOutbox.addEventListener(
    "parked",
    () => {
      writesWaited = true;
      updateTotals();
    },
    { signal },
  );

  // --- Keyboard ---------------------------------------------------------------

  function focusCell(rowIndex, column) {
    const input = tableSlot.querySelector(`input[data-row="${rowIndex}"][data-column="${column}"]`);
    if (!input) return false;
    input.focus();
    input.select();
    return true;
  }

  function onKeyDown(event) {
    const input = event.target;
    if (!input.classList || !input.classList.contains("cell-input")) return;
    const rowIndex = Number(input.dataset.row);
    const column = Number(input.dataset.column);
    const atStart = input.selectionStart === 0 && input.selectionEnd === 0;
    const atEnd = input.selectionStart === input.value.length && input.selectionEnd === input.value.length;
    const allSelected = input.selectionStart === 0 && input.selectionEnd === input.value.length;
    let moved = false;
    switch (event.key) {
      case "ArrowUp":
        moved = focusCell(rowIndex - 1, column);
        break;
      case "ArrowDown":
        moved = focusCell(rowIndex + 1, column);
        break;
      case "ArrowLeft":
        if (atStart || allSelected) moved = focusCell(rowIndex, column - 1);
        break;
      case "ArrowRight":
        if (atEnd || allSelected) moved = focusCell(rowIndex, column + 1);
        break;
      case "Enter":
        commit(input);
        if (!focusCell(rowIndex + (event.shiftKey ? -1 : 1), column)) input.select();
        moved = true;
        break;
      case "Escape":
        input.value = input.dataset.sent;
        input.select();
        moved = true;
        break;
      default:
        return;
    }
    if (moved) event.preventDefault();
  }

  // --- Adding rows ------------------------------------------------------------

  function rowTools() {
    const projectId = uniqueId("row-project");
    const phaseId = uniqueId("row-phase");
    const projectSelect = h("select", { id: projectId }, h("option", { value: "" }, "Loading projects…"));
    const phaseSelect = h("select", { id: phaseId, disabled: true }, h("option", { value: "" }, "Choose a project first"));
    const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const addButton = h("button", { type: "submit" }, "Add row");
    const copyButton = h("button", { type: "button", onclick: copyLastWeek }, "Copy last week's rows");
    let projects = [];
    let phases = [];

    function setMessage(kind, text) {
      message.className = `form-message message-${kind}`;
      message.textContent = text;
    }

    async function loadProjects() {
      projects = (await fetchAll("/projects", signal)).filter((project) => project.status !== "archived");
      projectSelect.replaceChildren(
        h("option", { value: "" }, projects.length ? "Choose a project" : "You are not a member of any open project"),
        ...projects.map((project) => h("option", { value: project.id }, project.code ? `${project.name} (${project.code})` : project.name)),
      );
    }

    async function loadPhases() {
      const chosen = projectSelect.value;
      phases = [];
      phaseSelect.disabled = true;
      if (!chosen) {
        phaseSelect.replaceChildren(h("option", { value: "" }, "Choose a project first"));
        return;
      }
      phaseSelect.replaceChildren(h("option", { value: "" }, "Loading phases…"));
      const detail = await api.get(`/projects/${chosen}`, { signal });
      if (projectSelect.value !== chosen) return;
      phases = detail.phases;
      if (phases.length === 0) {
        phaseSelect.replaceChildren(h("option", { value: "" }, "No phases"));
        return;
      }
      phaseSelect.disabled = false;
      phaseSelect.replaceChildren(
        h("option", { value: "" }, "Choose a phase"),
        ...phases.map((phase) => h("option", { value: phase.id }, phase.name)),
      );
    }

    function onSubmit(event) {
      event.preventDefault();
      message.textContent = "";
      const project = projects.find((item) => String(item.id) === projectSelect.value);
      if (!project) {
        setMessage("error", "Choose a project for the new row.");
        projectSelect.focus();
        return;
      }
      if (phases.length > 0 && !phaseSelect.value) {
        setMessage("error", `Choose a phase of ${project.name} for the new row.`);
        phaseSelect.focus();
        return;
      }
      const phase = phases.find((item) => String(item.id) === phaseSelect.value) || null;
      const added = addRows([
        { project_id: project.id, project_name: project.name, phase_id: phase ? phase.id : null, phase_name: phase ? phase.name : null },
      ]);
      const key = rowKey(project.id, phase ? phase.id : null);
      const index = [...rows.keys()].indexOf(key);
      if (!added) setMessage("info", "That row is already in the grid.");
      focusCell(index, 0);
    }

    async function copyLastWeek() {
      message.textContent = "";
      copyButton.disabled = true;
      try {
        const previous = await api.get(`/weeks/${addDays(monday, -7)}`, { signal });
        const added = addRows(previous.rows.map(({ project_id, project_name, phase_id, phase_name }) => ({ project_id, project_name, phase_id, phase_name })));
        if (previous.rows.length === 0) {
          setMessage("info", "Last week has no rows to copy.");
        } else if (added === 0) {
          setMessage("info", "Every row of last week is already in the grid.");
        } else {
          setMessage("success", added === 1 ? "Added 1 row from last week." : `Added ${added} rows from last week.`);
        }
      } catch (error) {
        if (isAbort(error)) return;
        setMessage("error", `Last week's rows could not be loaded: ${error.message}`);
      } finally {
        copyButton.disabled = false;
      }
    }

    projectSelect.addEventListener("change", () =>
      loadPhases().catch((error) => {
        if (!isAbort(error)) setMessage("error", `The phases could not be loaded: ${error.message}`);
      }),
    );
    loadProjects().catch(pageError);

    return h(
      "form",
      { class: "card row-tools", onsubmit: onSubmit, novalidate: true, "aria-label": "Add row" },
      h(
        "div",
        { class: "filters" },
        h("div", { class: "field" }, h("label", { for: projectId }, "Project"), projectSelect),
        h("div", { class: "field" }, h("label", { for: phaseId }, "Phase"), phaseSelect),
        h("div", { class: "form-actions" }, addButton, copyButton),
      ),
      message,
    );
  }

  // Add rows without hours; return how many were new.
  function addRows(sources) {
    let added = 0;
    for (const source of sources) {
      const key = rowKey(source.project_id, source.phase_id);
      if (rows.has(key)) continue;
      addedRows.push(source);
      addRow(source);
      added += 1;
    }
    if (added) showTable();
    return added;
  }

  // --- Submission -------------------------------------------------------------

  function showStatus() {
    const submission = week && week.submission;
    const when = (value) => (value ? formatDate(value) : "");
    let text;
    let kind = "info";
    if (!submission) {
      text = "Not submitted yet.";
    } else if (submission.status === "submitted") {
      text = `Submitted on ${when(submission.submitted_at)}; waiting for a manager's approval.`;
    } else if (submission.status === "approved") {
      text = `Approved on ${when(submission.decided_at)}.`;
      kind = "success";
    } else {
      text = `Returned on ${when(submission.decided_at)}. Correct the week and submit it again.`;
      kind = "warning";
    }
    status.replaceChildren(
      h(
        "p",
        { class: `message message-${kind}`, dataset: { status: submission ? submission.status : "open" } },
        text,
        submission && submission.status === "returned" && submission.comment
          ? h("span", { class: "return-comment" }, ` Manager's comment: “${submission.comment}”`)
          : null,
      ),
    );
    submitButton.textContent = submission && submission.status === "returned" ? "Submit again" : "Submit week";
    submitButton.disabled = Boolean(submission && submission.status !== "returned");
  }

  async function submitWeek() {
    const waiting = () => pendingCells().filter((entry) => days.includes(entry.body.work_date)).length;
    submitButton.disabled = true;
    try {
      if (waiting()) {
        actionMessage.className = "form-message message-info";
        actionMessage.textContent = "Saving your changes before submitting…";
        await flushCells();
        if (waiting()) {
          submitButton.disabled = false;
          actionMessage.className = "form-message message-warning";
          actionMessage.textContent = "Some changes are still waiting to be sent. Submit the week once they are saved.";
          return;
        }
      }
      await api.post(`/weeks/${monday}/submit`, undefined, { signal });
      actionMessage.className = "form-message message-success";
      actionMessage.textContent = "The week is submitted. A manager will approve it or return it with a comment.";
      await load();
    } catch (error) {
      if (isAbort(error)) return;
      submitButton.disabled = false;
      actionMessage.className = "form-message message-error";
      actionMessage.textContent = `The week was not submitted: ${error.message}`;
    }
  }

  load().catch(pageError);
  return { refresh: load };
}
