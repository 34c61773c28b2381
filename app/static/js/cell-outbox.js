// The grid-cell outbox: writes of the week grid wait in localStorage until the
// server confirms them, so hours typed while the server is down survive a
// reload and are sent when the server is back.
//
// Each write is a PUT /api/v1/weeks/cells, which sets a cell to a value, so
// sending a write twice leaves the same state. Writes are sent one at a time
// in the order they were typed, because the server checks the 24 h daily
// total against what is already saved. A newer write of a cell replaces an
// older one that has not been sent yet, so only the last value travels. Each
// write carries an Idempotency-Key made when it was typed, like the work-log
// outbox. A write leaves the outbox on a 2xx or on a final 4xx, which the grid
// shows at the cell; 401, 408 and 429 are not final.
//
// NOTE: the server stores Idempotency-Keys only for POST /api/v1/worklogs, so
// a repeated cell write is safe because PUT sets a value, not because of the
// key. Two open tabs may both send the same waiting writes; each write still
// sets its own value, but the order between the tabs is not guaranteed.

import { ApiError, api, isAbort } from "./request.js";

const STORAGE_KEY = "track.cell-outbox.v1";
const NOT_FINAL = new Set([401, 408, 429]);

export const cellOutbox = new EventTarget();

let username = null;
let sending = null;
let pumping = null;

function emit(type, detail = {}) {
  cellOutbox.dispatchEvent(new CustomEvent(type, { detail }));
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

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // crypto.randomUUID exists only in secure contexts (not on plain HTTP), so
  // the fallback is 32 random hex digits.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// The identity of a cell: project, phase (empty for none) and date.
export function cellId({ project_id, phase_id, work_date }) {
  return `${project_id}:${phase_id || ""}:${work_date}`;
}

export function setCellOutboxUser(name) {
  username = name;
  emit("changed");
}

// Waiting writes of the signed-in user, oldest first.
export function pendingCells() {
  return readAll().filter((entry) => entry.username === username);
}

// Store the write of one cell and start sending. `body` is the PUT body
// ({project_id, phase_id, work_date, hours}); `labels` ({project, phase}) let
// the grid show a row for a waiting write after a reload.
export function saveCell(body, labels) {
  const id = cellId(body);
  const entry = { key: newKey(), username, cell: id, body, labels, createdAt: new Date().toISOString() };
  const inFlightKey = sending && sending.entry.key;
  const kept = readAll().filter((item) => item.cell !== id || item.username !== username || item.key === inFlightKey);
  writeAll([...kept, entry]);
  pump();
  return entry;
}

// Send the waiting writes one by one. The promise resolves when none is left,
// or when one has to wait for a later flush (after a 401, for example).
export function flushCells() {
  return pump();
}

function pump() {
  if (!pumping) {
    pumping = drain().finally(() => {
      pumping = null;
    });
  }
  return pumping;
}

async function drain() {
  for (;;) {
    const entry = pendingCells()[0];
    if (!entry) return;
    const sent = await sendEntry(entry);
    if (!sent) return;
  }
}

// Send one entry; return false when it stays in the outbox for a later flush.
async function sendEntry(entry) {
  const controller = new AbortController();
  sending = { entry, controller };
  try {
    const result = await api.put("/weeks/cells", entry.body, {
      idempotencyKey: entry.key,
      signal: controller.signal,
      onParked: () => emit("parked", { entry }),
    });
    remove(entry.key);
    emit("saved", { entry, result });
    return true;
  } catch (error) {
    if (error instanceof ApiError && !NOT_FINAL.has(error.status)) {
      remove(entry.key);
      emit("rejected", { entry, error });
      return true;
    }
    if (!isAbort(error)) emit("changed");
    return false;
  } finally {
    sending = null;
  }
}

function remove(key) {
  writeAll(readAll().filter((entry) => entry.key !== key));
}

window.addEventListener("storage", (event) => {
  if (event.key === STORAGE_KEY) emit("changed");
});
