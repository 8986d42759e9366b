/**
 * The syncs screen's pure logic: what to tell staff about a Meta error code (from the marketing
 * service's classification, services/marketing/src/crm_marketing/meta/client.py), whether to keep
 * polling, and the backfill form's checks.
 */
import { addDays, bangkokToday, isDay } from "../dashboards/logic";

export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "stopped";

/** The i18n key (under "syncs.advice.") of what to do about a run's failure. */
export type Advice =
  | "token"
  | "permission"
  | "rateLimit"
  | "transient"
  | "tooMuchData"
  | "invalidParameter"
  | "unreachable"
  | "internal"
  | "unknown";

/**
 * What a Meta error code means for staff:
 * 190, 102 → the access token is invalid or expired (the service stops the sync at once);
 * 10, 200–299 → the token lacks a permission on the ad account (ads_read);
 * 4, 17, 32, 613, 80000–80014 → Meta's rate limits (retried; left over when they lasted too long);
 * 1, 2 → a temporary problem at Meta; 100 → an invalid request (or too much data at once).
 * Without a code the error text tells: Meta unreachable, or our own fault.
 */
export function adviceFor(code: number | null | undefined, error?: string | null): Advice | null {
  if (code != null) {
    if (code === 190 || code === 102) return "token";
    if (code === 10 || (code >= 200 && code <= 299)) return "permission";
    if ([4, 17, 32, 613].includes(code) || (code >= 80000 && code <= 80014)) return "rateLimit";
    if (code === 1 || code === 2) return "transient";
    if (code === 100) return /reduce the amount of data/i.test(error ?? "") ? "tooMuchData" : "invalidParameter";
    return "unknown";
  }
  if (!error) return null;
  if (/could not be reached/i.test(error)) return "unreachable";
  if (/internal error/i.test(error)) return "internal";
  if (/access token|META_MARKETING_ACCESS_TOKEN/i.test(error)) return "token";
  return "unknown";
}

export function isActive(status: RunStatus): boolean {
  return status === "queued" || status === "running";
}

/** Poll every 2 s while any run is queued or running (syncs publish no live events); else stop. */
export function pollInterval(statuses: readonly RunStatus[]): number | false {
  return statuses.some(isActive) ? 2000 : false;
}

/** Progress in percent (0–100) of jobs done, or null before the jobs are known. */
export function progressPercent(done: number, total: number): number | null {
  if (total <= 0) return null;
  return Math.min(100, Math.floor((done * 100) / total));
}

export type Granularity = "day" | "hour";
export interface BackfillForm {
  since: string;
  until: string;
  granularities: Granularity[];
}
export type BackfillErrors = Partial<Record<"since" | "until" | "granularities", string>>;

/** Meta keeps 37 months of insights. */
export const MAX_MONTHS_BACK = 37;

export function earliestDay(today: string): string {
  const [y, m, d] = today.split("-").map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - MAX_MONTHS_BACK;
  const year = Math.floor(total / 12);
  const month = (total % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}

/** The form's problems as i18n keys (under "syncs.form.error."), none when it may be sent. */
export function validateBackfill(form: BackfillForm, now: Date = new Date()): BackfillErrors {
  const today = bangkokToday(now);
  const errors: BackfillErrors = {};
  if (!isDay(form.since)) errors.since = "required";
  if (!isDay(form.until)) errors.until = "required";
  if (!errors.until && form.until > today) errors.until = "future";
  if (!errors.since && form.since < earliestDay(today)) errors.since = "tooOld";
  if (!errors.since && !errors.until && form.since > form.until) errors.until = "beforeSince";
  if (form.granularities.length === 0) errors.granularities = "required";
  return errors;
}

export function defaultBackfill(now: Date = new Date()): BackfillForm {
  const today = bangkokToday(now);
  return { since: addDays(today, -6), until: today, granularities: ["day"] };
}

/** A running run whose worker has not reported for this long may have stopped. */
export const STUCK_AFTER_SECONDS = 120;

/** Whether a queued or running run has gone quiet (no heartbeat, or none since it started). */
export function seemsStuck(
  run: { status: RunStatus; heartbeat_at?: string | null; started_at?: string | null },
  now: Date,
): boolean {
  if (run.status !== "running") return false;
  const last = run.heartbeat_at ?? run.started_at;
  if (!last) return false;
  return now.getTime() - Date.parse(last) > STUCK_AFTER_SECONDS * 1000;
}
