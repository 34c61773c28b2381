// Projects list: search by name, and pages that follow the API's next_cursor.

import { isManager, pageError } from "../app.js";
import { h } from "../dom.js";
import { formatHours, statusLabel } from "../format.js";
import { api } from "../request.js";

const PAGE_SIZE = 25;
const SEARCH_DELAY_MS = 300;

export function render({ main, me, query, signal }) {
  const search = h("input", {
    id: "project-search",
    type: "search",
    name: "q",
    value: query.get("q") || "",
    autocomplete: "off",
    placeholder: "Name contains…",
  });
  const status = h(
    "select",
    { id: "project-status", name: "status" },
    h("option", { value: "" }, "All"),
    ["active", "on_hold", "completed", "archived"].map((value) => h("option", { value }, statusLabel(value))),
  );
  status.value = query.get("status") || "";
  const summary = h("p", { class: "muted", role: "status", "aria-live": "polite" });
  const body = h("tbody");
  const previous = h("button", { type: "button", hidden: true }, "← Previous page");
  const next = h("button", { type: "button", hidden: true }, "Next page →");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of projects", hidden: true }, previous, next);

  // Cursors of the pages before the current one; null stands for page one.
  let cursors = [];
  let cursor = null;
  let nextCursor = null;
  let generation = 0;
  let searchTimer = null;

  main.append(
    h("h1", { tabindex: "-1" }, "Projects"),
    h(
      "form",
      { class: "filters", role: "search", onsubmit: (event) => event.preventDefault() },
      h("div", { class: "field" }, h("label", { for: search.id }, "Search projects"), search),
      h("div", { class: "field" }, h("label", { for: status.id }, "Status"), status),
    ),
    summary,
    h(
      "div",
      { class: "card table-card" },
      h(
        "table",
        { class: "data" },
        h("caption", { class: "visually-hidden" }, isManager(me) ? "All projects" : "Projects you are a member of"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Project"),
            h("th", { scope: "col" }, "Code"),
            h("th", { scope: "col" }, "Client"),
            h("th", { scope: "col" }, "Status"),
            h("th", { scope: "col", class: "number" }, "Planned"),
          ),
        ),
        body,
      ),
    ),
    pager,
  );

  function listPath() {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (search.value.trim()) params.set("q", search.value.trim());
    if (status.value) params.set("status", status.value);
    if (cursor) params.set("cursor", cursor);
    return `/projects?${params}`;
  }

  function keepFiltersInAddress() {
    const params = new URLSearchParams();
    if (search.value.trim()) params.set("q", search.value.trim());
    if (status.value) params.set("status", status.value);
    const address = params.toString() ? `/projects?${params}` : "/projects";
    history.replaceState(null, "", address);
  }

  async function load() {
    generation += 1;
    const mine = generation;
    const page = await api.get(listPath(), { signal });
    if (mine !== generation) return;
    nextCursor = page.next_cursor;
    body.replaceChildren(
      ...page.items.map((project) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `/projects/${project.id}` }, project.name)),
          h("td", {}, project.code || ""),
          h("td", {}, project.client || ""),
          h("td", {}, h("span", { class: `status status-${project.status}` }, statusLabel(project.status))),
          h("td", { class: "number" }, project.planned_hours === null ? "" : `${formatHours(project.planned_hours)} h`),
        ),
      ),
    );
    if (page.items.length === 0) {
      body.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No projects match.")));
    }
    const pageNumber = cursors.length + 1;
    summary.textContent = `Page ${pageNumber}: ${page.items.length} project${page.items.length === 1 ? "" : "s"}${search.value.trim() ? ` matching “${search.value.trim()}”` : ""}.`;
    // Only the buttons that lead to another page are shown.
    previous.hidden = cursors.length === 0;
    next.hidden = !nextCursor;
    pager.hidden = previous.hidden && next.hidden;
  }

  function restart() {
    cursors = [];
    cursor = null;
    keepFiltersInAddress();
    load().catch(pageError);
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(restart, SEARCH_DELAY_MS);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(searchTimer);
      restart();
    }
  });
  status.addEventListener("change", restart);
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
  signal.addEventListener("abort", () => clearTimeout(searchTimer));

  load().catch(pageError);
  return { refresh: load };
}
