// Client-side errors: a ring buffer of the page's recent errors, filled by a
// global error handler and by the failed requests that request.js announces.
//
// The buffer goes into problem reports, so a report carries what the browser
// saw without anyone opening the console. The same errors are sent in batches
// to POST /api/v1/client-errors, which counts them by signature. Sending is
// bounded: at most BATCH_SIZE errors per request, one request per
// BATCH_DELAY_MS, and MAX_SENT_PER_PAGE errors per page load, so a page stuck
// in an error loop cannot flood the server.

import { connection, request } from "./request.js";

const BUFFER_SIZE = 20;
// The API accepts at most 20 errors per batch and these field lengths.
const BATCH_SIZE = 20;
const MAX_MESSAGE = 2000;
const MAX_SOURCE = 500;
const MAX_STACK = 8000;
const BATCH_DELAY_MS = 5000;
const MAX_SENT_PER_PAGE = 100;

const recent = [];
let unsent = [];
let sentCount = 0;
let sendTimer = null;
let signedIn = false;

function clip(text, length) {
  const value = String(text || "");
  return value.length > length ? value.slice(0, length) : value;
}

// Record one error. Fields follow the API: message, source, stack, status and
// incident_id; `at` is set here.
export function recordClientError({ message, source = "", stack = "", status = null, incidentId = null }) {
  const error = {
    message: clip(message || "Unknown error", MAX_MESSAGE),
    source: clip(source, MAX_SOURCE),
    stack: clip(stack, MAX_STACK),
    at: new Date().toISOString(),
    incident_id: incidentId,
    status,
  };
  recent.push(error);
  if (recent.length > BUFFER_SIZE) recent.shift();
  if (sentCount + unsent.length < MAX_SENT_PER_PAGE) {
    unsent.push(error);
    scheduleSend();
  }
  return error;
}

// The most recent errors, oldest first, at most BUFFER_SIZE.
export function recentClientErrors() {
  return recent.slice();
}

// Errors are sent only for a signed-in user, because the API needs a session.
export function setClientErrorUser(user) {
  signedIn = Boolean(user);
  if (signedIn) scheduleSend();
}

function scheduleSend() {
  if (sendTimer || !signedIn || unsent.length === 0) return;
  sendTimer = setTimeout(sendBatch, BATCH_DELAY_MS);
}

async function sendBatch() {
  sendTimer = null;
  if (!signedIn || unsent.length === 0) return;
  const batch = unsent.slice(0, BATCH_SIZE);
  unsent = unsent.slice(BATCH_SIZE);
  sentCount += batch.length;
  try {
    await request("POST", "/api/v1/client-errors", { body: { errors: batch }, reportFailure: false, ownRateLimit: true });
  } catch {
    // The counts are a diagnostic aid: a lost batch is not sent again, so a
    // broken endpoint cannot keep the page busy.
  }
  scheduleSend();
}

function describeRejection(reason) {
  if (reason instanceof Error) return { message: `${reason.name}: ${reason.message}`, stack: reason.stack || "" };
  return { message: `Unhandled rejection: ${String(reason)}`, stack: "" };
}

window.addEventListener("error", (event) => {
  const where = event.filename ? `${event.filename}:${event.lineno}:${event.colno}` : "";
  recordClientError({
    message: event.message || (event.error && String(event.error)) || "Script error",
    source: where,
    stack: (event.error && event.error.stack) || "",
  });
});

window.addEventListener("unhandledrejection", (event) => {
  // A cancelled request is part of leaving a page, not an error.
  if (event.reason instanceof DOMException && event.reason.name === "AbortError") return;
  recordClientError({ ...describeRejection(event.reason), source: "unhandledrejection" });
});

connection.addEventListener("request-failed", (event) => {
  const { method, path, status, incidentId, message } = event.detail;
  recordClientError({ message, source: `${method} ${path}`, status, incidentId });
});
