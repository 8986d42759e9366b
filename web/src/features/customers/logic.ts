/**
 * The customers area's pure logic (no React): what the search box was given, the stage pipeline,
 * profile drafts and patches, the edit-conflict diff, 422 field errors, created-date ranges.
 */
import type { components } from "../../api/client";

export type CustomerView = components["schemas"]["CustomerView"];
export type CustomerSnapshot = components["schemas"]["CustomerSnapshot"];
export type CustomerPatch = components["schemas"]["CustomerPatch"];
export type Stage = NonNullable<CustomerPatch["lifecycle_stage"]>;
export type Temperature = "hot" | "warm" | "cold";

// ---------------------------------------------------------------- search box

export type QueryKind = "empty" | "phone" | "email" | "customerId" | "psid" | "text";

const CUSTOMER_ID = /^TVS-CUS-(FB|LINE|WEB|WALKIN)(-\d{0,2}(-\d*)?)?$/i;
const PHONE_CHARS = /^[+()\d\s.-]+$/;

/** Thai numbers typed as 081-234-5678, 0812345678, +66 81 234 5678, 66812345678 or 0066812345678. */
export function normalizeThaiPhone(input: string): string | null {
  const trimmed = input.trim();
  if (!PHONE_CHARS.test(trimmed)) return null;
  let digits = trimmed.replace(/\D/g, "");
  if (trimmed.startsWith("+")) digits = "+" + digits;
  else if (digits.startsWith("00")) digits = "+" + digits.slice(2);
  if (digits.startsWith("+66")) digits = "0" + digits.slice(3);
  else if (/^66\d{8,9}$/.test(digits)) digits = "0" + digits.slice(2);
  if (/^0\d{8,9}$/.test(digits)) return "+66" + digits.slice(1);
  if (/^\+\d{8,15}$/.test(digits)) return digits; // another country, already international
  return null;
}

/**
 * What the staff member typed: an e-mail, a customer id, a phone number (any local form), a
 * Messenger PSID (13 or more digits, no phone punctuation), or a name.
 */
export function detectQueryKind(input: string): QueryKind {
  const q = input.trim();
  if (!q) return "empty";
  if (q.includes("@")) return "email";
  if (CUSTOMER_ID.test(q)) return "customerId";
  if (/^\d{13,20}$/.test(q)) return "psid";
  if (normalizeThaiPhone(q)) return "phone";
  return "text";
}

/** The list's search parameters for the box's text: a PSID goes in `psid`, the rest in `q`. */
export function searchParamsFor(input: string): { q?: string; psid?: string } {
  const q = input.trim();
  const kind = detectQueryKind(q);
  if (kind === "empty") return {};
  if (kind === "psid") return { psid: q };
  if (kind === "customerId") return { q: q.toUpperCase() };
  return { q };
}

// ---------------------------------------------------------------- stages

/** The way forward; `lost` is off the path. */
export const PIPELINE: readonly Stage[] = ["lead", "contacted", "qualified", "enrolled", "alumni"];
export const STAGES: readonly Stage[] = [...PIPELINE, "lost"];

export function isStage(s: string): s is Stage {
  return (STAGES as readonly string[]).includes(s);
}

/** Sort key: pipeline order, `lost` last, unknown stages after that. */
export function stageOrder(s: string): number {
  const i = STAGES.indexOf(s as Stage);
  return i === -1 ? STAGES.length : i;
}

export type StepState = "done" | "current" | "todo";

/** Each pipeline step as done, current or still to come; a lost customer has no current step. */
export function pipelineSteps(current: string): { stage: Stage; state: StepState }[] {
  const at = PIPELINE.indexOf(current as Stage);
  return PIPELINE.map((stage, i) => ({
    stage,
    state: at === -1 ? "todo" : i < at ? "done" : i === at ? "current" : "todo",
  }));
}

export function temperatureTone(t: string | undefined | null): "danger" | "warning" | "info" | "neutral" {
  if (t === "hot") return "danger";
  if (t === "warm") return "warning";
  if (t === "cold") return "info";
  return "neutral";
}

// ---------------------------------------------------------------- profile drafts

export const PROFILE_FIELDS = ["display_name", "name_th", "name_latin", "nickname", "phone", "email", "tags"] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type Draft = Record<ProfileField, string>;

type ProfileSource = Pick<CustomerView, "display_name" | "name_th" | "name_latin" | "nickname" | "phone" | "email" | "tags">;

export function parseTags(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(",")) {
    const tag = raw.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

export function draftOf(c: ProfileSource): Draft {
  return {
    display_name: c.display_name ?? "",
    name_th: c.name_th ?? "",
    name_latin: c.name_latin ?? "",
    nickname: c.nickname ?? "",
    phone: c.phone ?? "",
    email: c.email ?? "",
    tags: (c.tags ?? []).join(", "),
  };
}

/** Whether two values of a field mean the same (phones by their E.164 form, tags as a set). */
export function sameValue(field: ProfileField, a: string, b: string): boolean {
  const x = a.trim();
  const y = b.trim();
  if (x === y) return true;
  if (field === "phone") {
    const px = normalizeThaiPhone(x);
    return px !== null && px === normalizeThaiPhone(y);
  }
  if (field === "email") return x.toLowerCase() === y.toLowerCase();
  if (field === "tags") {
    const tx = parseTags(x).sort();
    const ty = parseTags(y).sort();
    return tx.length === ty.length && tx.every((t, i) => t === ty[i]);
  }
  return false;
}

/** The fields `draft` changes from `base`, as a PATCH body (cleared text → null). */
export function buildPatch(base: Draft, draft: Draft): CustomerPatch {
  const patch: CustomerPatch = {};
  for (const field of PROFILE_FIELDS) {
    if (sameValue(field, base[field], draft[field])) continue;
    const value = draft[field].trim();
    if (field === "tags") patch.tags = parseTags(value);
    else patch[field] = value === "" ? null : value;
  }
  return patch;
}

export function isEmptyPatch(p: CustomerPatch): boolean {
  return Object.keys(p).length === 0;
}

// ---------------------------------------------------------------- edit conflicts (412)

export interface ConflictRow {
  field: ProfileField;
  /** What the form was opened with. */
  base: string;
  mine: string;
  theirs: string;
  mineChanged: boolean;
  theirsChanged: boolean;
  /** Both changed it, to different values: re-applying mine overwrites theirs. */
  clash: boolean;
}

/**
 * The fields someone else or I changed since the form was opened (`base`): theirs are the
 * customer's current values, mine the form's.
 */
export function conflictRows(base: Draft, mine: Draft, theirs: Draft): ConflictRow[] {
  const rows: ConflictRow[] = [];
  for (const field of PROFILE_FIELDS) {
    const mineChanged = !sameValue(field, base[field], mine[field]);
    const theirsChanged = !sameValue(field, base[field], theirs[field]);
    if (!mineChanged && !theirsChanged) continue;
    rows.push({
      field,
      base: base[field],
      mine: mine[field],
      theirs: theirs[field],
      mineChanged,
      theirsChanged,
      clash: mineChanged && theirsChanged && !sameValue(field, mine[field], theirs[field]),
    });
  }
  return rows;
}

/** My changes (against `base`) on top of the current version (`theirs`). */
export function reapplyMine(base: Draft, mine: Draft, theirs: Draft): Draft {
  const out = { ...theirs };
  for (const field of PROFILE_FIELDS) {
    if (!sameValue(field, base[field], mine[field])) out[field] = mine[field];
  }
  return out;
}

// ---------------------------------------------------------------- errors and ETags

/** A 422's `errors` by field name (`body.phone` and `phone` both → `phone`), first message each. */
export function fieldErrorMap(errors: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const raw = e.field ?? e.loc ?? "";
    const name = raw.split(/[.\s]/).filter(Boolean).pop() ?? "";
    const message = e.detail ?? e.msg ?? e.message ?? "";
    if (name && !(name in out)) out[name] = message;
  }
  return out;
}

/** The version an ETag names (`"7"`, `W/"7"` → 7), or null. */
export function versionOfEtag(etag: string | null | undefined): number | null {
  if (!etag) return null;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(etag.trim());
  return m ? Number(m[1]) : null;
}

export function etagOf(version: number): string {
  return `"${version}"`;
}

// ---------------------------------------------------------------- dates, files

function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * A created range picked as Bangkok calendar days (both included) → the API's instants:
 * `created_from` at that day's midnight in Bangkok, `created_to` (exclusive) the day after.
 */
export function createdRange(from: string, to: string): { created_from?: string; created_to?: string } {
  const out: { created_from?: string; created_to?: string } = {};
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (day.test(from)) out.created_from = `${from}T00:00:00+07:00`;
  if (day.test(to)) out.created_to = `${addDays(to, 1)}T00:00:00+07:00`;
  return out;
}

export function exportFileName(customerId: string): string {
  return `${customerId.replace(/[^A-Za-z0-9_-]/g, "_")}.json`;
}

/** The name staff know the customer by. */
export function displayNameOf(c: Pick<CustomerView, "display_name" | "name_th" | "name_latin" | "nickname">): string | null {
  return c.display_name || c.name_th || c.name_latin || c.nickname || null;
}

export function messengerPsid(c: Pick<CustomerView, "identities">): string | null {
  return c.identities.find((i) => i.channel === "messenger")?.external_id ?? null;
}

/** Timeline `detail` as readable pairs: primitives only, ids and amounts as text (never JSON). */
export function detailPairs(detail: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(detail)) {
    if (v === null || v === undefined || v === "") continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out.push([k, String(v)]);
    else if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" || typeof x === "number"))
      out.push([k, v.join(", ")]);
  }
  return out;
}

/** The customer a 404's message says this one was merged into, if it names another. */
export function mergedInto(detail: string | undefined, customerId: string): string | null {
  const ids = (detail ?? "").match(/TVS-CUS-(?:FB|LINE|WEB|WALKIN)-\d{2}-\d+/g) ?? [];
  return ids.find((id) => id !== customerId) ?? null;
}
