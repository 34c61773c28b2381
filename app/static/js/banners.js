// The connection banners at the top of the page: red when the server cannot be
// reached or failed with an error, green when it is back, amber while the rate
// limit makes Track wait. They follow the events of request.js. Only the Try
// again and Report a problem buttons lead to requests.

import { h } from "./dom.js";
import { openProblemReport } from "./problem-report.js";
import { connection, secondsUntilAllowed, tryAgain } from "./request.js";

const RESTORED_VISIBLE_MS = 2500;
const LIMIT_ENDED_VISIBLE_MS = 6000;
const FADE_MS = 600;
// These statuses mean "unreachable" and lead to the lost-connection banner.
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

let region;
let countdownTimer = null;
let fadeTimer = null;

function clear() {
  clearInterval(countdownTimer);
  clearTimeout(fadeTimer);
  countdownTimer = null;
  fadeTimer = null;
  region.replaceChildren();
}

function button(label, onClick, extra = {}) {
  return h("button", { type: "button", class: "banner-button", onclick: onClick, ...extra }, label);
}

function showLost() {
  clear();
  const note = h("p", { class: "banner-note" }, "Track keeps checking and sends your pending changes when the server is back.");
  const retry = button("Try again", async () => {
    retry.disabled = true;
    retry.textContent = "Trying…";
    const ok = await tryAgain();
    if (!ok && region.contains(retry)) {
      retry.disabled = false;
      retry.textContent = "Try again";
      note.textContent = "The server is still unavailable. Track keeps checking in the background.";
    }
  });
  region.append(
    h(
      "div",
      { class: "banner banner-error", role: "alert", dataset: { banner: "lost" } },
      h("div", { class: "banner-text" }, h("strong", {}, "Connection lost - server temporarily unavailable"), note),
      h(
        "div",
        { class: "banner-actions" },
        retry,
        button("Refresh page", () => window.location.reload()),
        button("Report a problem", () => openProblemReport()),
        button("Dismiss", clear),
      ),
    ),
  );
}

// A 500 from the server: the request failed for a reason the user cannot fix,
// so the banner names the incident and offers to report it.
function showServerError(event) {
  const { status, incidentId } = event.detail;
  if (status < 500 || TRANSIENT_STATUSES.has(status)) return;
  // The lost-connection banner stays, because it tells the user what to do next.
  if (region.querySelector("[data-banner=lost]")) return;
  clear();
  region.append(
    h(
      "div",
      { class: "banner banner-error", role: "alert", dataset: { banner: "server-error" } },
      h(
        "div",
        { class: "banner-text" },
        h("strong", {}, "Something went wrong on the server"),
        h(
          "p",
          { class: "banner-note" },
          "What you just did was not completed. ",
          incidentId ? ["The error was logged as incident ", h("code", { class: "incident" }, incidentId), ". "] : null,
          "If it happens again, report it.",
        ),
      ),
      h(
        "div",
        { class: "banner-actions" },
        button("Report a problem", () => openProblemReport({ incidentId })),
        button("Dismiss", clear),
      ),
    ),
  );
}

function showRestored() {
  clear();
  const banner = h(
    "div",
    { class: "banner banner-ok", role: "status", dataset: { banner: "restored" } },
    h("div", { class: "banner-text" }, h("strong", {}, "Connection restored")),
  );
  region.append(banner);
  fadeTimer = setTimeout(() => {
    banner.classList.add("banner-fading");
    fadeTimer = setTimeout(clear, FADE_MS);
  }, RESTORED_VISIBLE_MS);
}

function showLimited() {
  clear();
  const seconds = h("span", { class: "countdown", "aria-live": "off" }, String(secondsUntilAllowed()));
  const message = h(
    "strong",
    {},
    "Too many requests - Track waits ",
    seconds,
    " s before it sends anything else.",
  );
  const retry = button("Try again", async () => {
    retry.disabled = true;
    if (await tryAgain()) clear();
  });
  retry.disabled = true;
  region.append(
    h(
      "div",
      { class: "banner banner-warning", role: "status", dataset: { banner: "limited" } },
      h(
        "div",
        { class: "banner-text" },
        message,
        h("p", { class: "banner-note" }, "You sent requests faster than the server allows for one person."),
      ),
      h("div", { class: "banner-actions" }, retry, button("Dismiss", clear)),
    ),
  );
  countdownTimer = setInterval(() => {
    seconds.textContent = String(secondsUntilAllowed());
  }, 250);
}

function showLimitEnded() {
  const banner = region.querySelector("[data-banner=limited]");
  if (!banner) return;
  clearInterval(countdownTimer);
  countdownTimer = null;
  banner.querySelector("strong").textContent = "You can continue now.";
  banner.querySelector(".banner-note").textContent = "Choose Try again if the page still looks incomplete.";
  const retry = banner.querySelector("button");
  retry.disabled = false;
  fadeTimer = setTimeout(() => {
    banner.classList.add("banner-fading");
    fadeTimer = setTimeout(clear, FADE_MS);
  }, LIMIT_ENDED_VISIBLE_MS);
}

export function installBanners(element) {
  region = element;
  connection.addEventListener("lost", showLost);
  connection.addEventListener("restored", showRestored);
  connection.addEventListener("limited", showLimited);
  connection.addEventListener("limit-ended", showLimitEnded);
  connection.addEventListener("request-failed", showServerError);
  connection.addEventListener("refresh", () => {
    if (region.querySelector("[data-banner=limited]")) clear();
  });
}
