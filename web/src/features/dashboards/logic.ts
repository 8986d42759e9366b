/**
 * The dashboards' pure logic: date ranges in Bangkok days and the period before them, the change
 * between two periods, exact comparison of decimal strings (money is never turned into a float
 * for display or sorting).
 */
import { bangkokDay } from "../../lib/format";

export type Preset = "today" | "yesterday" | "7d" | "30d" | "month" | "custom";
export const PRESETS: readonly Preset[] = ["today", "yesterday", "7d", "30d", "month", "custom"];

export interface DayRange {
  /** First Bangkok day, "YYYY-MM-DD". */
  since: string;
  /** Last Bangkok day, included. */
  until: string;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export function isDay(s: string | null | undefined): s is string {
  if (!s || !DAY_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** "2026-12-06" + n days (n may be negative), calendar arithmetic on the date alone. */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Days from `since` to `until`, both included. */
export function daysIn(range: DayRange): number {
  const a = Date.parse(`${range.since}T00:00:00Z`);
  const b = Date.parse(`${range.until}T00:00:00Z`);
  return Math.round((b - a) / 86_400_000) + 1;
}

function lastDayOfMonth(year: number, month1: number): number {
  return new Date(Date.UTC(year, month1, 0)).getUTCDate();
}

/** Today's Bangkok day for an instant. */
export function bangkokToday(now: Date = new Date()): string {
  return bangkokDay(now);
}

/**
 * The range a preset means at `now` (Asia/Bangkok days). `custom` uses `custom` as given
 * (swapped when the wrong way round).
 */
export function presetRange(preset: Preset, now: Date = new Date(), custom?: Partial<DayRange>): DayRange {
  const today = bangkokToday(now);
  switch (preset) {
    case "today":
      return { since: today, until: today };
    case "yesterday": {
      const y = addDays(today, -1);
      return { since: y, until: y };
    }
    case "7d":
      return { since: addDays(today, -6), until: today };
    case "30d":
      return { since: addDays(today, -29), until: today };
    case "month":
      return { since: `${today.slice(0, 8)}01`, until: today };
    case "custom": {
      const since = isDay(custom?.since) ? custom.since : addDays(today, -29);
      const until = isDay(custom?.until) ? custom.until : today;
      return since <= until ? { since, until } : { since: until, until: since };
    }
  }
}

/**
 * The period to compare with: for "this month" the same days of the month before (1–6 Nov for
 * 1–6 Dec, cut at the month's end: 1–28 Feb for 1–31 Mar), otherwise the same number of days
 * just before.
 */
export function previousRange(range: DayRange, preset: Preset): DayRange {
  if (preset === "month" && range.since.endsWith("-01")) {
    const [y, m] = range.since.split("-").map(Number) as [number, number];
    const py = m === 1 ? y - 1 : y;
    const pm = m === 1 ? 12 : m - 1;
    const mm = String(pm).padStart(2, "0");
    const lastDay = Math.min(Number(range.until.slice(8, 10)), lastDayOfMonth(py, pm));
    return { since: `${py}-${mm}-01`, until: `${py}-${mm}-${String(lastDay).padStart(2, "0")}` };
  }
  const n = daysIn(range);
  return { since: addDays(range.since, -n), until: addDays(range.since, -1) };
}

/** The query parameters of a range (the API takes Bangkok days as since/until, until included). */
export function rangeParams(range: DayRange): { since: string; until: string } {
  return { since: range.since, until: range.until };
}

// ---------------------------------------------------------------- exact decimals

const DEC = /^([+-])?(\d*)(?:\.(\d*))?$/;

/** A decimal string (or a number, or a count) as a scaled BigInt: value × 10^scale. */
function scaled(value: string | number, scale: number): bigint | null {
  const text = typeof value === "number" ? String(value) : value.trim();
  if (/e/i.test(text)) return null;
  const m = DEC.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return null;
  const frac = (m[3] ?? "").padEnd(scale, "0").slice(0, scale);
  const v = BigInt((m[2] || "0") + frac);
  return m[1] === "-" ? -v : v;
}

function fracLen(value: string | number): number {
  const s = String(value);
  const i = s.indexOf(".");
  return i < 0 ? 0 : s.length - i - 1;
}

/**
 * Compares two decimal strings exactly ("1000.10" > "999.99"); null/undefined/unreadable
 * values come last whatever the direction (they are "none", not zero).
 */
export function compareDecimal(
  a: string | number | null | undefined,
  b: string | number | null | undefined,
): number {
  const scale = Math.max(a == null ? 0 : fracLen(a), b == null ? 0 : fracLen(b));
  const x = a == null ? null : scaled(a, scale);
  const y = b == null ? null : scaled(b, scale);
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A sort comparator on one value of rows; "none" stays at the end in both directions. */
export function byValue<T>(
  get: (row: T) => string | number | null | undefined,
  dir: "asc" | "desc",
): (a: T, b: T) => number {
  return (a, b) => {
    const va = get(a);
    const vb = get(b);
    if (va == null || vb == null) return compareDecimal(va, vb);
    if (typeof va === "string" && typeof vb === "string" && (scaled(va, 0) === null || scaled(vb, 0) === null)) {
      const c = va.localeCompare(vb);
      return dir === "asc" ? c : -c;
    }
    const c = compareDecimal(va, vb);
    return dir === "asc" ? c : -c;
  };
}

/**
 * The change from `previous` to `current` in percent, to one decimal, worked out exactly from
 * decimal strings: null when there is nothing to compare with (none, or a previous value of zero).
 */
export function percentChange(
  current: string | number | null | undefined,
  previous: string | number | null | undefined,
): number | null {
  if (current == null || previous == null) return null;
  const scale = Math.max(fracLen(current), fracLen(previous));
  const c = scaled(current, scale);
  const p = scaled(previous, scale);
  if (c === null || p === null || p === 0n) return null;
  const abs = p < 0n ? -p : p;
  // tenths of a percent, rounded half away from zero
  const num = (c - p) * 2000n;
  const q = num / abs;
  const tenths = q >= 0n ? (q + 1n) / 2n : (q - 1n) / 2n;
  return Number(tenths) / 10;
}

/** "+12.5 %", "−3.0 %", "0.0 %". */
export function formatChange(pct: number): string {
  const sign = pct > 0 ? "+" : pct < 0 ? "−" : "";
  return `${sign}${Math.abs(pct).toFixed(1)} %`;
}

/** Whether a rise in this figure is good (revenue), bad (costs) or neither (spend). */
export type Direction = "up" | "down" | "neutral";
export function toneOfChange(pct: number | null, direction: Direction): "good" | "bad" | "flat" {
  if (pct === null || pct === 0 || direction === "neutral") return "flat";
  return (pct > 0) === (direction === "up") ? "good" : "bad";
}

/** A rate as a decimal string ("0.1250") in percent ("12.50 %"), exactly. */
export function formatRate(rate: string | null | undefined): string | null {
  if (rate == null) return null;
  const v = scaled(rate, 6); // rate × 10^6 = percent × 10^4
  if (v === null) return null;
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const hundredths = (abs + 50n) / 100n; // percent × 100, half up
  const whole = hundredths / 100n;
  const frac = (hundredths % 100n).toString().padStart(2, "0");
  return `${neg && hundredths !== 0n ? "-" : ""}${whole}.${frac} %`;
}

/** ROAS "26.97" → "26.97×". */
export function formatRoas(roas: string | null | undefined): string | null {
  return roas == null ? null : `${roas}×`;
}

/** Counts with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A plain number for a chart axis (plotting only: never for showing money). */
export function plotNumber(value: string | number | null | undefined): number | null {
  if (value == null) return null;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * When an answer's data was current: the time it was fetched minus its `age_seconds`, else when
 * its newest file was written (`generated_at`), else unknown.
 */
export function freshAt(
  data: { age_seconds: number | null; generated_at: string | null },
  fetchedAt: number,
): Date | null {
  if (data.age_seconds != null) return new Date(fetchedAt - data.age_seconds * 1000);
  if (data.generated_at) return new Date(data.generated_at);
  return null;
}
