/**
 * Formatting for staff screens: money in THB, dates and times in Asia/Bangkok.
 * Pure functions (language passed in) so they are easy to test; components use
 * `useFormat()` from src/lib/useFormat.ts, which binds the current language.
 */
import type { Lang } from "../i18n/translate";

export const TIME_ZONE = "Asia/Bangkok";

// ---------------------------------------------------------------- money

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

/** Normalises a number to a plain decimal string without exponent (e.g. 1e21 → "1000000000000000000000"). */
function numberToDecimalString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`Not a finite amount: ${n}`);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toLocaleString("en-US", { useGrouping: false, maximumFractionDigits: 20 });
}

/**
 * "12345.50" → "฿12,345.50"; "-5" → "-฿5.00"; rounds half away from zero to 2 places using
 * BigInt string arithmetic (no float errors). The API sends money as decimal strings: pass
 * them through unchanged. Numbers are accepted but may already carry float error.
 */
export function formatTHB(amount: string | number): string {
  const text = typeof amount === "number" ? numberToDecimalString(amount) : amount.trim();
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new RangeError(`Not a decimal amount: ${amount}`);
  const negative = m[1] === "-";
  const intPart = m[2] || "0";
  const frac = m[3] ?? "";
  // Work in units of 0.01 with a third digit to decide rounding.
  const padded = (frac + "000").slice(0, 3);
  let cents = BigInt(intPart) * 100n + BigInt(padded.slice(0, 2));
  const third = Number(padded[2]);
  if (third >= 5) cents += 1n;
  const whole = cents / 100n;
  const rest = (cents % 100n).toString().padStart(2, "0");
  const grouped = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = negative && cents !== 0n ? "-" : "";
  return `${sign}฿${grouped}.${rest}`;
}

// ---------------------------------------------------------------- dates

export interface DateOptions {
  /** Thai only: Buddhist era year (2569) or Gregorian (2026). Default: Buddhist. */
  era?: "buddhist" | "gregorian";
}

function locale(lang: Lang, opts?: DateOptions): string {
  if (lang === "en") return "en-GB";
  return opts?.era === "gregorian" ? "th-TH-u-ca-gregory" : "th-TH-u-ca-buddhist";
}

function toDate(value: string | number | Date): Date {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new RangeError(`Not a date: ${String(value)}`);
  return d;
}

const cache = new Map<string, Intl.DateTimeFormat>();
function dtf(loc: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = loc + JSON.stringify(options);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(loc, { timeZone: TIME_ZONE, ...options });
    cache.set(key, f);
  }
  return f;
}

const DATE: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric" };
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };

/** "6 Dec 2026" / "6 ธ.ค. 2569" in Bangkok time. */
export function formatDate(value: string | number | Date, lang: Lang, opts?: DateOptions): string {
  return dtf(locale(lang, opts), DATE).format(toDate(value));
}

/** "00:30" (24-hour clock) in Bangkok time. */
export function formatTime(value: string | number | Date, lang: Lang): string {
  return dtf(locale(lang), TIME).format(toDate(value));
}

/** "6 Dec 2026, 00:30" / "6 ธ.ค. 2569 00:30" in Bangkok time. */
export function formatDateTime(value: string | number | Date, lang: Lang, opts?: DateOptions): string {
  const d = toDate(value);
  const sep = lang === "en" ? ", " : " ";
  return formatDate(d, lang, opts) + sep + formatTime(d, lang);
}

/** The Bangkok calendar day of an instant as "YYYY-MM-DD" (Gregorian), e.g. for grouping. */
export function bangkokDay(value: string | number | Date): string {
  return dtf("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" }).format(toDate(value));
}

const RELATIVE: Record<Lang, Record<"now" | "min" | "hour" | "day", [past: string, future: string]>> = {
  en: {
    now: ["just now", "in a moment"],
    min: ["{n} min ago", "in {n} min"],
    hour: ["{n} h ago", "in {n} h"],
    day: ["{n} d ago", "in {n} d"],
  },
  th: {
    now: ["เมื่อสักครู่", "อีกสักครู่"],
    min: ["{n} นาทีที่แล้ว", "อีก {n} นาที"],
    hour: ["{n} ชั่วโมงที่แล้ว", "อีก {n} ชั่วโมง"],
    day: ["{n} วันที่แล้ว", "อีก {n} วัน"],
  },
};

/**
 * "5 min ago" / "5 นาทีที่แล้ว"; under 45 s "just now"; from 7 days on the date itself.
 */
export function formatRelative(
  value: string | number | Date,
  now: Date,
  lang: Lang,
  opts?: DateOptions,
): string {
  const d = toDate(value);
  const diffMs = now.getTime() - d.getTime();
  const future = diffMs < 0 ? 1 : 0;
  const sec = Math.abs(diffMs) / 1000;
  const words = RELATIVE[lang];
  let unit: "min" | "hour" | "day";
  let n: number;
  if (sec < 45) return words.now[future];
  if (sec < 3600) [unit, n] = ["min", Math.max(1, Math.round(sec / 60))];
  else if (sec < 86400) [unit, n] = ["hour", Math.floor(sec / 3600)];
  else if (sec < 7 * 86400) [unit, n] = ["day", Math.floor(sec / 86400)];
  else return formatDate(d, lang, opts);
  if (unit === "min" && n === 60) [unit, n] = ["hour", 1];
  return words[unit][future].replace("{n}", String(n));
}
