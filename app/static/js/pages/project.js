// Project page: progress by phase, adding work logs, and for managers adding
// phases and members.

import { isManager, pageError } from "../app.js";
import { h, progressBar, uniqueId } from "../dom.js";
import { formatDate, formatHours, statusLabel } from "../format.js";
import { ApiError, api, fetchAll, isAbort } from "../request.js";
import { field, outboxPanel, showFieldErrors, workLogForm } from "../worklog-form.js";

function hoursText(value) {
  return value === null || value === undefined ? "–" : `${formatHours(value)} h`;
}

export function render({ main, me, params, signal, setTitle }) {
  const projectId = Number(params[0]);
  const manager = isManager(me);
  const heading = h("h1", { tabindex: "-1" }, "Project");
  const facts = h("p", { class: "project-facts" });
  const description = h("p", { class: "project-description" });
  const summary = h("div", { class: "summary" });
  const phasesBody = h("div", {}, h("p", { class: "muted" }, "Loading phases…"));
  const people = h("div");
  const members = h("ul", { class: "member-list" });
  const formSlot = h("div");
  let logForm = null;
  let generation = 0;

  main.append(
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "/projects" }, "Projects"), " / "),
    heading,
    facts,
    description,
    h("section", { class: "card", "aria-label": "Progress" }, summary),
    h(
      "section",
      { class: "card", "aria-labelledby": "phases-title" },
      h("h2", { id: "phases-title" }, "Phases"),
      phasesBody,
      manager ? phaseForm() : null,
    ),
    formSlot,
    outboxPanel({ signal }),
    h(
      "div",
      { class: "two-columns" },
      h("section", { class: "card", "aria-labelledby": "people-title" }, h("h2", { id: "people-title" }, manager ? "Hours by person" : "Your hours"), people),
      h(
        "section",
        { class: "card", "aria-labelledby": "members-title" },
        h("h2", { id: "members-title" }, "Members"),
        members,
        manager ? memberForm() : null,
      ),
    ),
  );

  async function load() {
    generation += 1;
    const mine = generation;
    let detail;
    let progress;
    try {
      [detail, progress] = await Promise.all([
        api.get(`/projects/${projectId}`, { signal }),
        api.get(`/projects/${projectId}/progress`, { signal }),
      ]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        main.replaceChildren(
          h("h1", { tabindex: "-1" }, "Project not found"),
          h("p", {}, error.message, " ", h("a", { href: "/projects" }, "Back to the projects")),
        );
        return;
      }
      throw error;
    }
    if (mine !== generation) return;
    showProject(detail, progress);
    if (!logForm) await showLogForm(detail);
    else logForm.reloadPhases();
  }

  function showProject(detail, progress) {
    heading.textContent = detail.name;
    setTitle(detail.name);
    facts.replaceChildren(
      h("span", { class: `status status-${detail.status}` }, statusLabel(detail.status)),
      detail.code ? h("span", {}, `Code ${detail.code}`) : null,
      detail.client ? h("span", {}, `Client ${detail.client}`) : null,
      progress.last_activity ? h("span", {}, `Last activity ${formatDate(progress.last_activity)}`) : null,
    );
    description.textContent = detail.description || "";
    description.hidden = !detail.description;

    summary.replaceChildren(
      stat("Planned", hoursText(progress.planned_hours)),
      stat("Logged", hoursText(progress.logged_hours), "logged"),
      stat("Remaining", hoursText(progress.remaining_hours)),
      h("div", { class: "stat stat-wide" }, h("span", { class: "stat-label" }, "Progress"), progressBar(progress.percent, `Progress of ${detail.name}`)),
    );

    if (progress.phases.length === 0) {
      phasesBody.replaceChildren(
        h(
          "p",
          { class: "empty-state" },
          "No phases yet.",
          manager ? " Add a phase below to plan and track this project by phase." : " Work is logged on the project as a whole.",
        ),
      );
    } else {
      phasesBody.replaceChildren(phaseTable(detail, progress));
    }
    if (Number(progress.unphased_hours) > 0 && progress.phases.length > 0) {
      phasesBody.append(h("p", { class: "muted" }, `${formatHours(progress.unphased_hours)} h were logged without a phase.`));
    }

    people.replaceChildren(
      progress.people.length
        ? h(
            "table",
            { class: "data compact" },
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Person"), h("th", { scope: "col", class: "number" }, "Hours"), h("th", { scope: "col" }, "Last logged"))),
            h(
              "tbody",
              {},
              progress.people.map((person) =>
                h(
                  "tr",
                  {},
                  h("td", {}, person.display_name || person.username),
                  h("td", { class: "number" }, `${formatHours(person.hours)} h`),
                  h("td", { class: "date" }, formatDate(person.last_activity)),
                ),
              ),
            ),
          )
        : h("p", { class: "muted" }, "No hours logged yet."),
    );

    members.replaceChildren(
      ...detail.members.map((member) =>
        h(
          "li",
          {},
          h("span", {}, member.display_name || member.username, h("span", { class: "muted" }, ` (${member.username})`)),
          manager
            ? h(
                "button",
                {
                  type: "button",
                  class: "link-button danger",
                  "aria-label": `Remove ${member.username} from the project`,
                  onclick: () => removeMember(member),
                },
                "Remove",
              )
            : null,
        ),
      ),
    );
    if (detail.members.length === 0) members.append(h("li", { class: "muted" }, "No members yet."));
  }

  function stat(label, value, name) {
    return h("div", { class: "stat", dataset: name ? { stat: name } : {} }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
  }

  function phaseTable(detail, progress) {
    return h(
      "table",
      { class: "data" },
      h("caption", { class: "visually-hidden" }, `Phases of ${detail.name}: planned against logged hours`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Phase"),
          h("th", { scope: "col", class: "number" }, "Planned"),
          h("th", { scope: "col", class: "number" }, "Logged"),
          h("th", { scope: "col", class: "number" }, "Remaining"),
          h("th", { scope: "col", class: "progress-col" }, "Progress"),
        ),
      ),
      h(
        "tbody",
        {},
        progress.phases.map((phase) =>
          h(
            "tr",
            { dataset: { phase: phase.id } },
            h("th", { scope: "row" }, phase.name),
            h("td", { class: "number" }, hoursText(phase.planned_hours)),
            h("td", { class: "number" }, hoursText(phase.logged_hours)),
            h("td", { class: phase.remaining_hours !== null && phase.remaining_hours < 0 ? "number over" : "number" }, hoursText(phase.remaining_hours)),
            h("td", {}, progressBar(phase.percent, `Progress of phase ${phase.name}`)),
          ),
        ),
      ),
    );
  }

  async function showLogForm(detail) {
    if (detail.status === "archived") {
      formSlot.replaceChildren(h("p", { class: "card muted" }, "This project is archived and takes no new work logs."));
      return;
    }
    const projects = (await fetchAll("/projects", signal)).filter((project) => project.status !== "archived");
    if (logForm) return;
    logForm = workLogForm({ me, projects, projectId, signal, onSaved: () => load().catch(pageError) });
    formSlot.replaceChildren(
      h("section", { class: "card", "aria-labelledby": "add-log-title" }, h("h2", { id: "add-log-title" }, "Add work log"), logForm.element),
    );
  }

  function phaseForm() {
    const fields = {
      name: field("Phase name", h("input", { id: uniqueId("phase-name"), maxlength: 200, autocomplete: "off" })),
      planned_hours: field("Planned hours", h("input", { id: uniqueId("phase-planned"), inputmode: "decimal", autocomplete: "off" }), "Optional."),
    };
    const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const submit = h("button", { type: "submit" }, "Add phase");

    async function onSubmit(event) {
      event.preventDefault();
      for (const item of Object.values(fields)) item.setError("");
      message.textContent = "";
      const name = fields.name.control.value.trim();
      if (!name) {
        fields.name.setError("Enter a name for the phase.");
        fields.name.control.focus();
        return;
      }
      const planned = fields.planned_hours.control.value.trim().replace(",", ".");
      const body = { name };
      if (planned) body.planned_hours = planned;
      submit.disabled = true;
      try {
        const phase = await api.post(`/projects/${projectId}/phases`, body, { signal });
        fields.name.control.value = "";
        fields.planned_hours.control.value = "";
        message.className = "form-message message-success";
        message.textContent = `Added phase ${phase.name}.`;
        await load();
      } catch (error) {
        if (isAbort(error)) return;
        message.className = "form-message message-error";
        if (error instanceof ApiError && error.problem.errors) {
          const leftover = showFieldErrors(error, fields);
          message.textContent = leftover.length ? leftover.join("; ") : "The phase was not added: correct the marked fields.";
        } else {
          message.textContent = `The phase was not added: ${error.message}`;
        }
      } finally {
        submit.disabled = false;
      }
    }

    return h(
      "form",
      { class: "inline-form", onsubmit: onSubmit, novalidate: true, "aria-label": "Add phase" },
      h("h3", {}, "Add phase"),
      h("div", { class: "form-grid" }, fields.name.element, fields.planned_hours.element),
      message,
      h("div", { class: "form-actions" }, submit),
    );
  }

  function memberForm() {
    const fields = {
      username: field("Username", h("input", { id: uniqueId("member-username"), autocomplete: "off", maxlength: 64 })),
    };
    const message = h("p", { class: "form-message", role: "status", "aria-live": "polite" });
    const submit = h("button", { type: "submit" }, "Add member");

    async function onSubmit(event) {
      event.preventDefault();
      fields.username.setError("");
      message.textContent = "";
      const username = fields.username.control.value.trim();
      if (!username) {
        fields.username.setError("Enter the username of the person to add.");
        fields.username.control.focus();
        return;
      }
      submit.disabled = true;
      try {
        const added = await api.post(`/projects/${projectId}/members`, { username }, { signal });
        fields.username.control.value = "";
        message.className = "form-message message-success";
        message.textContent = `${added.user.display_name || added.user.username} is a member.`;
        await load();
      } catch (error) {
        if (isAbort(error)) return;
        message.className = "form-message message-error";
        if (error instanceof ApiError && error.problem.errors) {
          const leftover = showFieldErrors(error, fields);
          message.textContent = leftover.join("; ");
        } else {
          message.textContent = `The member was not added: ${error.message}`;
        }
      } finally {
        submit.disabled = false;
      }
    }

    return h(
      "form",
      { class: "inline-form", onsubmit: onSubmit, novalidate: true, "aria-label": "Add member" },
      h("div", { class: "form-grid" }, fields.username.element),
      message,
      h("div", { class: "form-actions" }, submit),
    );
  }

  async function removeMember(member) {
    try {
      await api.delete(`/projects/${projectId}/members/${member.id}`, { signal });
      await load();
    } catch (error) {
      if (isAbort(error)) return;
      if (error instanceof ApiError && error.status === 404) {
        await load();
        return;
      }
      pageError(error);
    }
  }

  load().catch(pageError);
  return { refresh: load };
}
