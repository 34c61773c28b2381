// Every HTTP request of the UI goes through this module.
//
// It tracks the connection state ("online", "offline" or "limited") and
// announces changes through the `connection` event target, which banners.js
// renders. While the state is not "online", new requests wait in an in-memory
// queue instead of being sent:
// - A network error, 502, 503 or 504 is retried once after a short delay.
//   Two such failures in a row switch to "offline". Track then polls
//   /healthz/ready with exponential backoff and jitter (paused while the tab is
//   hidden) and, once the server is ready, sends the queued requests and emits
//   "restored" so the page reloads its data.
// - A 429 switches to "limited" until Retry-After has passed. Nothing is sent
//   before then, so the wait cannot be prolonged by more requests.
// Every 5xx and every unreachable server is also announced as a
// "request-failed" event, which client-errors.js records and banners.js uses
// to offer "Report a problem".

const FAILURES_BEFORE_OFFLINE = 2;
const RETRY_DELAY_MS = 300;
const TRY_AGAIN_DELAY_MS = 400;
// The poll interval doubles from POLL_BASE_MS up to POLL_CAP_MS. The cap is
// short because the page should recover within about a second of the server
// becoming ready. Each poll costs one small request per open tab.
const POLL_BASE_MS = 250;
const POLL_CAP_MS = 1000;
const POLL_TIMEOUT_MS = 3000;
const DEFAULT_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 3600;
const TRANSIENT_STATUSES = new Set([502, 503, 504]);
const SAFE_METHODS = new Set(["GET", "HEAD"]);

export const connection = new EventTarget();

let state = "online";
let failureStreak = 0;
let lastJob = null;
let queue = [];
let pollAttempt = 0;
let pollTimer = null;
let limitTimer = null;
let limitedUntil = 0;
const readsInFlight = new Map();

// An error response from the API, with its RFC 9457 problem body when it has one.
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `The server returned HTTP ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
  }

  // Field errors of a 422, as a map from field name to message.
  get fieldErrors() {
    const errors = {};
    for (const item of this.problem.errors || []) {
      errors[item.field] = errors[item.field] ? `${errors[item.field]}; ${item.message}` : item.message;
    }
    return errors;
  }
}

// A request that failed because the server could not be reached and that the
// module does not retry by itself (a POST without an Idempotency-Key).
export class ConnectionError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConnectionError";
  }
}

export function isAbort(error) {
  return error instanceof DOMException && error.name === "AbortError";
}

export function connectionState() {
  return state;
}

export function secondsUntilAllowed() {
  return Math.max(0, Math.ceil((limitedUntil - Date.now()) / 1000));
}

function emit(type, detail = {}) {
  connection.dispatchEvent(new CustomEvent(type, { detail }));
}

function abortError() {
  return new DOMException("The request was cancelled.", "AbortError");
}

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withJitter(ms) {
  // "Equal jitter": between half and all of the delay, so clients that lost
  // the server at the same moment do not poll in step.
  return ms / 2 + Math.random() * (ms / 2);
}

// Send a request to the API and return the parsed JSON body (null for 204).
//
// Options:
// - body: sent as JSON.
// - headers: extra request headers.
// - signal: an AbortSignal. Aborting drops the request from the queue.
// - idempotencyKey: sets Idempotency-Key, which makes a POST safe to resend.
// - onParked: called when the request has to wait for the connection or the
//   rate limit.
// - ownRateLimit: a 429 limits this endpoint alone (problem reports have a
//   limit of their own), so it raises an ApiError instead of pausing every
//   request of the page.
// - reportFailure: false sends no "request-failed" event, for the requests
//   that report errors themselves, so a failing report cannot report itself.
// Raises ApiError for an HTTP error, ConnectionError for an unreachable server
// when the request may not be resent, and an AbortError when cancelled.
export function request(method, path, options = {}) {
  method = method.toUpperCase();
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  const job = {
    method,
    path,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    onParked: options.onParked,
    ownRateLimit: Boolean(options.ownRateLimit),
    reportFailure: options.reportFailure !== false,
    // Reads and idempotent writes may be resent; a plain POST may have
    // reached the server already, so it is not.
    resendable: method !== "POST" || Boolean(options.idempotencyKey),
  };
  if (job.signal && job.signal.aborted) return Promise.reject(abortError());
  return dispatch(job);
}

function dispatch(job) {
  if (SAFE_METHODS.has(job.method) && !job.shared) return joinRead(job);
  return state === "online" ? send(job) : park(job);
}

function park(job) {
  return new Promise((resolve, reject) => {
    job.resolve = resolve;
    job.reject = reject;
    queue.push(job);
    if (job.signal) {
      job.signal.addEventListener(
        "abort",
        () => {
          queue = queue.filter((queued) => queued !== job);
          reject(abortError());
        },
        { once: true },
      );
    }
    if (job.onParked) job.onParked();
  });
}

// Run a read as one shared request per path, whether it is sent now or waits
// in the queue, so the queue never contains two identical reads. The shared
// request is cancelled only when every caller waiting for it has aborted.
function joinRead(job) {
  let shared = readsInFlight.get(job.path);
  if (!shared) {
    const controller = new AbortController();
    shared = { controller, callers: 0 };
    shared.promise = dispatch({ ...job, signal: controller.signal, shared: true }).finally(() => {
      if (readsInFlight.get(job.path) === shared) readsInFlight.delete(job.path);
    });
    readsInFlight.set(job.path, shared);
  }
  shared.callers += 1;
  return new Promise((resolve, reject) => {
    if (job.signal) {
      job.signal.addEventListener(
        "abort",
        () => {
          shared.callers -= 1;
          if (shared.callers === 0) {
            readsInFlight.delete(job.path);
            shared.controller.abort();
          }
          reject(abortError());
        },
        { once: true },
      );
    }
    shared.promise.then(resolve, reject);
  });
}

async function send(job) {
  lastJob = job;
  let response;
  try {
    response = await fetch(job.path, {
      method: job.method,
      headers: job.headers,
      body: job.body,
      credentials: "same-origin",
      cache: "no-store",
      signal: job.signal,
    });
  } catch (error) {
    if (isAbort(error)) throw error;
    return transientFailure(job, "network");
  }
  if (TRANSIENT_STATUSES.has(response.status)) return transientFailure(job, response.status);
  failureStreak = 0;
  if (response.status === 429 && !job.ownRateLimit) {
    startLimit(retryAfterSeconds(response));
    return park(job);
  }
  return readResponse(response, job);
}

function reportFailure(job, status, problem) {
  if (!job.reportFailure) return;
  emit("request-failed", {
    method: job.method,
    path: job.path,
    status,
    incidentId: (problem && problem.incident_id) || null,
    message: (problem && problem.detail) || (status ? `HTTP ${status}` : "The server could not be reached."),
  });
}

async function transientFailure(job, cause) {
  failureStreak += 1;
  reportFailure(job, cause === "network" ? 0 : cause, null);
  if (failureStreak < FAILURES_BEFORE_OFFLINE && job.resendable) {
    await wait(withJitter(RETRY_DELAY_MS * 2));
    return dispatch(job);
  }
  if (failureStreak >= FAILURES_BEFORE_OFFLINE) goOffline(cause);
  if (!job.resendable) {
    throw new ConnectionError("The server could not be reached, so this was not saved. Try again.");
  }
  return park(job);
}

async function readResponse(response, job) {
  const type = response.headers.get("Content-Type") || "";
  const data = response.status === 204 ? null : type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const problem = typeof data === "object" ? data : null;
    if (response.status >= 500) reportFailure(job, response.status, problem);
    throw new ApiError(response.status, problem);
  }
  return data;
}

function retryAfterSeconds(response) {
  const header = (response.headers.get("Retry-After") || "").trim();
  let seconds = DEFAULT_RETRY_AFTER_S;
  if (/^\d+$/.test(header)) {
    seconds = Number(header);
  } else if (header) {
    const date = Date.parse(header);
    if (!Number.isNaN(date)) seconds = Math.ceil((date - Date.now()) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds));
}

// --- Rate limit ---------------------------------------------------------------

function startLimit(seconds) {
  const until = Date.now() + seconds * 1000;
  if (state === "limited" && until <= limitedUntil) return;
  state = "limited";
  limitedUntil = until;
  clearTimeout(limitTimer);
  limitTimer = setTimeout(endLimit, until - Date.now());
  emit("limited", { until, seconds });
}

function endLimit() {
  limitTimer = null;
  if (state !== "limited") return;
  state = "online";
  emit("limit-ended");
  releaseQueue();
}

// --- Lost connection and polling ------------------------------------------------

function goOffline(cause) {
  if (state === "offline") return;
  clearTimeout(limitTimer);
  state = "offline";
  pollAttempt = 0;
  emit("lost", { cause });
  schedulePoll();
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = null;
  if (state !== "offline" || document.visibilityState === "hidden") return;
  const delay = withJitter(Math.min(POLL_CAP_MS, POLL_BASE_MS * 2 ** pollAttempt));
  pollAttempt += 1;
  pollTimer = setTimeout(poll, delay);
}

async function poll() {
  pollTimer = null;
  if (state !== "offline") return;
  if (await serverReady()) {
    restore();
  } else {
    schedulePoll();
  }
}

async function serverReady() {
  try {
    const response = await fetch("/healthz/ready", {
      cache: "no-store",
      signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    });
    return response.ok;
  } catch {
    return false;
  }
}

function restore() {
  if (state !== "offline") return;
  clearTimeout(pollTimer);
  pollTimer = null;
  state = "online";
  failureStreak = 0;
  emit("restored");
  releaseQueue();
}

function settle(job, promise) {
  promise.then(job.resolve, job.reject);
}

function releaseQueue() {
  const jobs = queue;
  queue = [];
  for (const job of jobs) settle(job, dispatch(job));
}

// Handle the "Try again" button: wait briefly, resend the last request, and
// when it gets through, send the rest of the queue and let the page reload its
// data. The queue contains no duplicate reads (see joinRead).
export async function tryAgain() {
  if (state === "limited") return false;
  await wait(TRY_AGAIN_DELAY_MS);
  const job = lastJob;
  if (state === "online") {
    emit("refresh");
    return true;
  }
  let reachable;
  if (job && job.resendable) {
    try {
      const response = await fetch(job.path, {
        method: job.method,
        headers: job.headers,
        body: job.body,
        credentials: "same-origin",
        cache: "no-store",
      });
      reachable = !TRANSIENT_STATUSES.has(response.status);
      if (response.status === 429) {
        startLimit(retryAfterSeconds(response));
        return false;
      }
      if (reachable && queue.includes(job)) {
        queue = queue.filter((queuedJob) => queuedJob !== job);
        settle(job, readResponse(response, job));
      }
    } catch {
      reachable = false;
    }
  } else {
    reachable = await serverReady();
  }
  if (!reachable) {
    pollAttempt = 0;
    schedulePoll();
    return false;
  }
  restore();
  return true;
}

document.addEventListener("visibilitychange", () => {
  if (state !== "offline") return;
  if (document.visibilityState === "hidden") {
    clearTimeout(pollTimer);
    pollTimer = null;
  } else {
    pollAttempt = 0;
    schedulePoll();
  }
});

window.addEventListener("online", () => {
  if (state === "offline") {
    pollAttempt = 0;
    schedulePoll();
  }
});

// Shorthands for the API under /api/v1.
export const api = {
  get: (path, options) => request("GET", `/api/v1${path}`, options),
  post: (path, body, options = {}) => request("POST", `/api/v1${path}`, { ...options, body }),
  put: (path, body, options = {}) => request("PUT", `/api/v1${path}`, { ...options, body }),
  patch: (path, body, options = {}) => request("PATCH", `/api/v1${path}`, { ...options, body }),
  delete: (path, options) => request("DELETE", `/api/v1${path}`, options),
};

const LIST_PAGE_SIZE = 500;

// Fetch every page of a list endpoint of the API and return all items.
export async function fetchAll(path, signal) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const suffix = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await api.get(`${path}${separator}limit=${LIST_PAGE_SIZE}${suffix}`, { signal });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
