// Formatting of hours and dates, and the client-side reading of typed hours.

const HOURS_FORMAT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

// Format an amount of hours such as 1234.5 as "1,234.5".
export function formatHours(value) {
  return HOURS_FORMAT.format(Number(value || 0));
}

// Read typed hours the way the API does ("8", "7.5", "7,5", "7:30", "8h",
// "7h30", "7h 30m"), for the budget warning only. It returns null for text it
// cannot read. The form still sends such text, and the API rejects it with its
// own field message.
export function parseHours(text) {
  const value = String(text || "").trim().toLowerCase();
  if (!value) return null;
  let match = value.match(/^(\d{1,2}):([0-5]\d)$/);
  if (match) return Number(match[1]) + Number(match[2]) / 60;
  if (/^\d{1,2}(?:[.,]\d{1,6})?$|^[.,]\d{1,6}$/.test(value)) return Number(value.replace(",", "."));
  match = value.match(/^(?:(\d{1,2}(?:[.,]\d+)?)\s*h)?\s*(?:(\d{1,3})\s*m(?:in)?)?$/);
  if (match && (match[1] || match[2])) {
    const hours = match[1] ? Number(match[1].replace(",", ".")) : 0;
    return hours + (match[2] ? Number(match[2]) / 60 : 0);
  }
  return null;
}

// Today's date as YYYY-MM-DD in an IANA time zone (the user's own).
export function todayIn(timeZone) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
      new Date(),
    );
  } catch {
    return new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }
}

function toDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

function toIso(date) {
  return date.toISOString().slice(0, 10);
}

export function isIsoDate(text) {
  return /^\d{4}-\d{2}-\d{2}$/.test(text || "") && toIso(toDate(text)) === text;
}

export function addDays(iso, days) {
  const date = toDate(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return toIso(date);
}

// The Monday of the ISO week that contains the date.
export function mondayOf(iso) {
  const weekday = (toDate(iso).getUTCDay() + 6) % 7;
  return addDays(iso, -weekday);
}

// Every date the UI shows reads like "Fri 4 Dec 2026". The parts are joined
// by hand because en-GB puts a comma after the weekday.
const DATE_PARTS = { weekday: "short", day: "numeric", month: "short", year: "numeric" };
const TIME_PARTS = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

function partsText(date, options) {
  const parts = {};
  for (const part of new Intl.DateTimeFormat("en-GB", options).formatToParts(date)) parts[part.type] = part.value;
  return parts;
}

// Format a date ("2026-12-04") or the local date of a timestamp
// ("2026-12-04T16:55:00Z") as "Fri 4 Dec 2026", or as "Fri 4 Dec" with
// `withYear: false` where the year is shown nearby. No value gives "".
export function formatDate(value, { withYear = true } = {}) {
  if (!value) return "";
  const timestamp = value.length > 10;
  const parts = partsText(timestamp ? new Date(value) : toDate(value), timestamp ? DATE_PARTS : { ...DATE_PARTS, timeZone: "UTC" });
  const text = `${parts.weekday} ${parts.day} ${parts.month}`;
  return withYear ? `${text} ${parts.year}` : text;
}

// Format a timestamp as "Fri 4 Dec 2026, 16:55" in the browser's time zone.
export function formatDateTime(value) {
  if (!value) return "";
  const parts = partsText(new Date(value), TIME_PARTS);
  return `${formatDate(value)}, ${parts.hour}:${parts.minute}`;
}

const STATUS_LABELS = { active: "Active", on_hold: "On hold", completed: "Completed", archived: "Archived" };

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}
