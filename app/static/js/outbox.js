// The work-log outbox: new work logs wait in localStorage until the server
// confirms them, so a log entered while the server is down survives a reload
// and is sent when the server is back.
//
// Each entry carries an Idempotency-Key made when the log was entered. The
// server stores the key per user and returns the original 201 for a repeated
// key, so sending an entry twice (after a lost response, or from two tabs)
// still creates one work log. An entry leaves the outbox on a 2xx, or on a
// final 4xx, which the page then shows. 401, 408 and 429 are not final: the
// entry stays and is sent again later.

import { ApiError, api, isAbort } from "./request.js";

const STORAGE_KEY = "track.outbox.v1";
const NOT_FINAL = new Set([401, 408, 429]);

export const outbox = new EventTarget();

let username = null;
const inFlight = new Map();
const rejections = [];

function emit(type, detail = {}) {
  outbox.dispatchEvent(new CustomEvent(type, { detail }));
}

function readAll() {
  try {
    const entries = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch {
    return [];
  }
}

function writeAll(entries) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(entries));
  emit("changed");
}

function remove(key) {
  writeAll(readAll().filter((entry) => entry.key !== key));
}

// A random UUID for the Idempotency-Key. crypto.randomUUID exists only in
// secure contexts, and Track is often served over plain HTTP inside a firm's
// network, so there is a fallback built on crypto.getRandomValues.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Set whose entries this tab sends; entries of other users stay untouched.
export function setOutboxUser(name) {
  username = name;
  rejections.length = 0;
  emit("changed");
}

export function pendingEntries() {
  return readAll().filter((entry) => entry.username === username);
}

// Entries the server rejected after they had waited in the outbox.
export function recentRejections() {
  return rejections.slice();
}

export function dismissRejection(key) {
  const index = rejections.findIndex((item) => item.entry.key === key);
  if (index >= 0) rejections.splice(index, 1);
  emit("changed");
}

// Store a new work log and send it. `labels` ({project, phase}) are only for
// showing the entry while it waits. Returns the created work log; raises the
// ApiError of a final rejection.
export function addWorkLog(body, labels, { onParked } = {}) {
  const entry = { key: newKey(), username, body, labels, createdAt: new Date().toISOString() };
  writeAll([...readAll(), entry]);
  return sendEntry(entry, onParked);
}

// Remove a waiting entry and cancel its request if it is still queued.
// NOTE: a request already on the network cannot be called back, so a
// discarded entry may still be saved if the server had received it.
export function discard(key) {
  const sending = inFlight.get(key);
  if (sending) sending.controller.abort();
  remove(key);
}

function sendEntry(entry, onParked) {
  const existing = inFlight.get(entry.key);
  if (existing) return existing.promise;
  const controller = new AbortController();
  let parked = false;
  const promise = api
    .post("/worklogs", entry.body, {
      idempotencyKey: entry.key,
      signal: controller.signal,
      onParked: () => {
        parked = true;
        if (onParked) onParked();
      },
    })
    .then((worklog) => {
      remove(entry.key);
      emit("saved", { entry, worklog, parked });
      return worklog;
    })
    .catch((error) => {
      if (error instanceof ApiError && !NOT_FINAL.has(error.status)) {
        remove(entry.key);
        if (parked) rejections.push({ entry, error });
        emit("rejected", { entry, error, parked });
      } else if (!isAbort(error)) {
        emit("changed");
      }
      throw error;
    })
    .finally(() => inFlight.delete(entry.key));
  inFlight.set(entry.key, { promise, controller });
  return promise;
}

// Send every waiting entry of the signed-in user, oldest first, one at a time
// so the server checks daily totals in the order the logs were entered.
export async function flushOutbox() {
  for (const entry of pendingEntries()) {
    if (inFlight.has(entry.key)) continue;
    try {
      await sendEntry(entry);
    } catch {
      // A final rejection is reported through the "rejected" event; a
      // temporary failure leaves the entry for the next flush.
    }
  }
}

window.addEventListener("storage", (event) => {
  if (event.key === STORAGE_KEY) emit("changed");
});
