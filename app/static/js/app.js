// The page shell: who is signed in, the navigation, and the router that
// renders a page for location.pathname with history navigation.
//
// Each page module exports render(context) and may return { refresh }, which
// the shell calls to reload the page's data without rebuilding its forms,
// for example when the connection comes back.

import { installBanners } from "./banners.js";
import { flushCells, setCellOutboxUser } from "./cell-outbox.js";
import { setClientErrorUser } from "./client-errors.js";
import { h } from "./dom.js";
import { flushOutbox, setOutboxUser } from "./outbox.js";
import { ApiError, api, connection, isAbort } from "./request.js";
import * as admin from "./pages/admin.js";
import * as approvals from "./pages/approvals.js";
import * as grid from "./pages/grid.js";
import * as help from "./pages/help.js";
import * as login from "./pages/login.js";
import * as portfolio from "./pages/portfolio.js";
import * as project from "./pages/project.js";
import * as projects from "./pages/projects.js";
import * as week from "./pages/week.js";

const ROUTES = [
  { pattern: /^\/login$/, page: login, title: "Sign in", public: true },
  { pattern: /^\/week$/, page: week, title: "My week", nav: "/week" },
  { pattern: /^\/grid$/, page: grid, title: "Week grid", nav: "/grid" },
  { pattern: /^\/approvals$/, page: approvals, title: "Approvals", nav: "/approvals", role: "manager" },
  { pattern: /^\/admin$/, page: admin, title: "Admin", nav: "/admin", role: "admin" },
  { pattern: /^\/projects$/, page: projects, title: "Projects", nav: "/projects" },
  { pattern: /^\/projects\/(\d+)$/, page: project, title: "Project", nav: "/projects" },
  { pattern: /^\/portfolio$/, page: portfolio, title: "Portfolio", nav: "/portfolio" },
  { pattern: /^\/help$/, page: help, title: "Help", nav: "/help", public: true },
];

// The signed-in user of this tab, kept in sessionStorage so that a reload can
// draw the page while the request for /me waits for the rate limit to end.
const USER_KEY = "track.user";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let me = null;
let current = null;
let started = false;

export function isManager(user) {
  return user && (user.role === "manager" || user.role === "admin");
}

export function isAdmin(user) {
  return Boolean(user && user.role === "admin");
}

function mayOpen(route, user) {
  if (route.role === "manager") return isManager(user);
  if (route.role === "admin") return isAdmin(user);
  return true;
}

// Tell the modules that keep per-user state who is signed in (null: nobody).
// `flush: false` sends nothing from the outboxes, for a remembered user whom
// the server has not confirmed yet.
function setUser(user, { flush = true } = {}) {
  me = user;
  setOutboxUser(user ? user.username : null);
  setCellOutboxUser(user ? user.username : null);
  setClientErrorUser(user);
  rememberUser(user);
  if (user && flush) {
    flushOutbox();
    flushCells();
  }
}

function rememberUser(user) {
  try {
    if (user) {
      sessionStorage.setItem(USER_KEY, JSON.stringify(user));
    } else {
      sessionStorage.removeItem(USER_KEY);
    }
  } catch {
    // Storage may be disabled or full, and then a reload waits for /me instead.
  }
}

function rememberedUser() {
  try {
    return JSON.parse(sessionStorage.getItem(USER_KEY) || "null");
  } catch {
    return null;
  }
}

function sameUser(a, b) {
  return Boolean(a && b) && a.id === b.id && a.role === b.role && a.timezone === b.timezone;
}

// Go to a path of the UI without reloading the page.
export function navigate(path, { replace = false } = {}) {
  if (replace) {
    history.replaceState(null, "", path);
  } else {
    history.pushState(null, "", path);
  }
  render();
}

function renderNav() {
  const links = [
    ["/week", "My week"],
    ["/grid", "Week grid"],
    ["/projects", "Projects"],
    isManager(me) ? ["/portfolio", "Portfolio"] : null,
    isManager(me) ? ["/approvals", "Approvals"] : null,
    isAdmin(me) ? ["/admin", "Admin"] : null,
    ["/help", "Help"],
  ].filter(Boolean);
  const active = current && current.route.nav;
  // replaceChildren() would print a null child as the text "null".
  const parts = [
    h(
      "ul",
      { class: "nav-links" },
      me
        ? links.map(([path, label]) =>
            h("li", {}, h("a", { href: path, "aria-current": path === active ? "page" : null }, label)),
          )
        : h("li", {}, h("a", { href: "/help", "aria-current": active === "/help" ? "page" : null }, "Help")),
    ),
    me
      ? h(
          "div",
          { class: "nav-user" },
          h("span", { class: "nav-name" }, me.display_name || me.username, h("span", { class: "role" }, me.role)),
          h("button", { type: "button", class: "link-button", onclick: signOut }, "Sign out"),
        )
      : null,
  ];
  nav.replaceChildren(...parts.filter(Boolean));
}

async function signOut() {
  try {
    await api.delete("/session");
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  setUser(null);
  navigate("/login", { replace: true });
}

// Called by the login page once the session cookie is set.
export function signedIn(user, next) {
  setUser(user);
  navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/week", { replace: true });
}

function findRoute(path) {
  for (const route of ROUTES) {
    const match = path.match(route.pattern);
    if (match) return { route, params: match.slice(1) };
  }
  return null;
}

function renderNotFound() {
  main.replaceChildren(
    h("h1", { tabindex: "-1" }, "Page not found"),
    h("p", {}, "There is no page at this address. ", h("a", { href: "/week" }, "Go to My week"), "."),
  );
}

// Show an error that a page did not handle itself.
export function pageError(error) {
  if (isAbort(error)) return;
  if (error instanceof ApiError && error.status === 401) {
    setUser(null);
    const next = location.pathname + location.search;
    navigate(`/login?next=${encodeURIComponent(next)}`, { replace: true });
    return;
  }
  const message = error instanceof ApiError ? error.message : "Something went wrong while loading this page.";
  main.append(h("p", { class: "message message-error", role: "alert" }, message));
  if (!(error instanceof ApiError)) console.error(error);
}

// The route path of the address: "/" opens My week, trailing slashes are dropped.
function currentPath() {
  return location.pathname === "/" ? "/week" : location.pathname.replace(/\/+$/, "") || "/";
}

function render() {
  if (current) current.controller.abort();
  const path = currentPath();
  if (path !== location.pathname) history.replaceState(null, "", path + location.search);

  const found = findRoute(path);
  const controller = new AbortController();
  current = found ? { ...found, controller, page: null } : null;
  renderNav();
  if (!found) {
    renderNotFound();
    return;
  }
  if (!found.route.public && !me) {
    navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    return;
  }

  if (!mayOpen(found.route, me)) {
    main.replaceChildren(
      h("h1", { tabindex: "-1" }, found.route.title),
      h("p", { class: "message message-error" }, `Only ${found.route.role}s can open this page. `, h("a", { href: "/week" }, "Go to My week"), "."),
    );
    return;
  }

  document.title = `${found.route.title} - Track`;
  main.replaceChildren();
  const context = {
    main,
    me,
    params: found.params,
    query: new URLSearchParams(location.search),
    signal: controller.signal,
    setTitle: (title) => {
      document.title = `${title} - Track`;
    },
  };
  const state = current;
  let page;
  try {
    page = found.route.page.render(context);
  } catch (error) {
    pageError(error);
    return;
  }
  // Move focus to the new heading, so keyboard and screen-reader users start
  // at the top of the page they opened. The first page keeps the browser's focus.
  const heading = main.querySelector("h1");
  if (heading && started) heading.focus({ preventScroll: true });
  started = true;
  state.page = page || null;
}

// Reload the current page's data, or the whole page view when it has no refresh.
function refreshPage() {
  if (!current) return;
  if (current.page && current.page.refresh) {
    Promise.resolve(current.page.refresh()).catch(pageError);
  } else if (me || (current.route && current.route.public)) {
    render();
  }
}

function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const link = event.target.closest("a[href]");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/static/")) {
    return;
  }
  event.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
}

async function start() {
  installBanners(document.getElementById("banners"));
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", render);
  connection.addEventListener("restored", () => {
    flushOutbox();
    flushCells();
    refreshPage();
  });
  connection.addEventListener("refresh", refreshPage);

  // The sign-in page needs no user, and asking for one would only log a 401.
  if (currentPath() === "/login") {
    render();
    return;
  }

  main.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  let waited = false;
  let user = null;
  try {
    user = await api.get("/me", {
      // A request can be parked again after the wait, but the page is drawn once.
      onParked: () => {
        if (waited) return;
        waited = true;
        renderWhileWaiting();
      },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) {
      pageError(error);
      return;
    }
  }
  const pageUser = me;
  setUser(user);
  // The page drawn for the remembered user stays, and its parked requests
  // load its data once the server accepts them.
  if (waited && sameUser(pageUser, user)) {
    renderNav();
  } else {
    render();
  }
}

// Draw the page while the request for /me waits for the rate limit or the
// server. It is drawn for the user this tab remembers, or else as the page's
// heading and a note.
function renderWhileWaiting() {
  const remembered = rememberedUser();
  if (remembered) {
    setUser(remembered, { flush: false });
    render();
    return;
  }
  const found = findRoute(currentPath());
  renderNav();
  const note = h("p", { class: "muted" }, "Loading… The page opens as soon as the server accepts requests again.");
  if (found) {
    document.title = `${found.route.title} - Track`;
    main.replaceChildren(h("h1", { tabindex: "-1" }, found.route.title), note);
  } else {
    main.replaceChildren(note);
  }
}

start();
