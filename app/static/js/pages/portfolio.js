// Portfolio dashboard for managers: every project's logged against planned hours.

import { isManager, pageError } from "../app.js";
import { h, progressBar } from "../dom.js";
import { formatDate, formatHours, statusLabel } from "../format.js";
import { api } from "../request.js";

const PAGE_SIZE = 100;

export function render({ main, me, signal }) {
  main.append(h("h1", { tabindex: "-1" }, "Portfolio"));
  if (!isManager(me)) {
    main.append(h("p", { class: "message message-info" }, "The portfolio is for managers. ", h("a", { href: "/projects" }, "See your projects"), "."));
    return null;
  }

  const status = h(
    "select",
    { id: "portfolio-status" },
    h("option", { value: "" }, "All"),
    ["active", "on_hold", "completed", "archived"].map((value) => h("option", { value }, statusLabel(value))),
  );
  status.value = "active";
  const totals = h("div", { class: "summary" });
  const body = h("tbody");
  const previous = h("button", { type: "button", hidden: true }, "← Previous page");
  const next = h("button", { type: "button", hidden: true }, "Next page →");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of the portfolio", hidden: true }, previous, next);
  let cursors = [];
  let cursor = null;
  let nextCursor = null;
  let generation = 0;

  main.append(
    h("form", { class: "filters", onsubmit: (event) => event.preventDefault() }, h("div", { class: "field" }, h("label", { for: status.id }, "Status"), status)),
    h("section", { class: "card", "aria-label": "Totals of the projects on this page" }, totals),
    h(
      "div",
      { class: "card table-card" },
      h(
        "table",
        { class: "data" },
        h("caption", { class: "visually-hidden" }, "Projects with planned and logged hours"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Project"),
            h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col", class: "number" }, "Planned"),
            h("th", { scope: "col", class: "number" }, "Logged"),
            h("th", { scope: "col", class: "progress-col" }, "Progress"),
            h("th", { scope: "col", class: "number" }, "People"),
            h("th", { scope: "col" }, "Last activity"),
          ),
        ),
        body,
      ),
    ),
    pager,
  );

  async function load() {
    generation += 1;
    const mine = generation;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (status.value) params.set("status", status.value);
    if (cursor) params.set("cursor", cursor);
    const page = await api.get(`/portfolio?${params}`, { signal });
    if (mine !== generation) return;
    nextCursor = page.next_cursor;

    let planned = 0;
    let logged = 0;
    let overPlan = 0;
    for (const project of page.items) {
      planned += Number(project.planned_hours || 0);
      logged += Number(project.logged_hours);
      if (project.percent !== null && project.percent > 100) overPlan += 1;
    }
    totals.replaceChildren(
      stat("Projects", String(page.items.length)),
      stat("Planned", `${formatHours(planned)} h`),
      stat("Logged", `${formatHours(logged)} h`),
      stat("Over plan", String(overPlan)),
    );

    body.replaceChildren(
      ...page.items.map((project) =>
        h(
          "tr",
          { dataset: { project: project.id } },
          h("th", { scope: "row" }, h("a", { href: `/projects/${project.id}` }, project.name), project.code ? h("span", { class: "muted" }, ` ${project.code}`) : null),
          h("td", {}, h("span", { class: `status status-${project.status}` }, statusLabel(project.status))),
          h("td", { class: "number" }, project.planned_hours === null ? "–" : `${formatHours(project.planned_hours)} h`),
          h("td", { class: "number", dataset: { logged: "" } }, `${formatHours(project.logged_hours)} h`),
          h("td", {}, progressBar(project.percent, `Progress of ${project.name}`)),
          h("td", { class: "number" }, String(project.people)),
          h("td", { class: "date" }, project.last_activity ? formatDate(project.last_activity) : h("span", { class: "muted" }, "none")),
        ),
      ),
    );
    if (page.items.length === 0) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No projects.")));
    // Only the buttons that lead to another page are shown.
    previous.hidden = cursors.length === 0;
    next.hidden = !nextCursor;
    pager.hidden = previous.hidden && next.hidden;
  }

  function stat(label, value) {
    return h("div", { class: "stat" }, h("span", { class: "stat-label" }, label), h("span", { class: "stat-value" }, value));
  }

  status.addEventListener("change", () => {
    cursors = [];
    cursor = null;
    load().catch(pageError);
  });
  next.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors.push(cursor);
    cursor = nextCursor;
    load().catch(pageError);
  });
  previous.addEventListener("click", () => {
    if (cursors.length === 0) return;
    cursor = cursors.pop();
    load().catch(pageError);
  });

  load().catch(pageError);
  return { refresh: load };
}
