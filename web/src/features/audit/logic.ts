/** The audit log's pure logic: changes as readable rows, filters as query parameters. */

export interface ChangeRow {
  field: string;
  before: unknown;
  after: unknown;
}

function isBeforeAfter(v: unknown): v is { before?: unknown; after?: unknown } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && ("before" in v || "after" in v);
}

/** `{field: {before, after}}` → rows in field order; anything else is one row with its value as "after". */
export function changeRows(changes: Record<string, unknown> | null | undefined): ChangeRow[] {
  if (!changes) return [];
  return Object.keys(changes)
    .sort()
    .map((field) => {
      const v = changes[field];
      return isBeforeAfter(v) ? { field, before: v.before ?? null, after: v.after ?? null } : { field, before: null, after: v };
    });
}

export interface ValueWords {
  none: string;
  yes: string;
  no: string;
}

/** A value for people: "—" for none, yes/no, lists joined, objects as "key: value; …" (never JSON). */
export function formatValue(value: unknown, words: ValueWords): string {
  if (value === null || value === undefined || value === "") return words.none;
  if (typeof value === "boolean") return value ? words.yes : words.no;
  if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.length ? value.map((v) => formatValue(v, words)).join(", ") : words.none;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) return words.none;
    return entries.map(([k, v]) => `${humanField(k)}: ${formatValue(v, words)}`).join("; ");
  }
  return words.none;
}

/** "is_active" → "is active", "first_touch.ad_id" → "first touch › ad id". */
export function humanField(field: string): string {
  return field.replace(/\./g, " › ").replace(/_/g, " ");
}

/** A Bangkok wall-clock time from a datetime-local field ("2026-12-06T10:30") as an ISO instant. */
export function bangkokLocalToIso(local: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(local);
  if (!m) return null;
  const iso = `${m[1]}T${m[2]}${m[3] ?? ":00"}+07:00`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

export interface AuditFilters {
  entity_type: string;
  entity_id: string;
  actor_id: string;
  action: string;
  /** datetime-local values, Bangkok time */
  since: string;
  until: string;
}

export const EMPTY_FILTERS: AuditFilters = { entity_type: "", entity_id: "", actor_id: "", action: "", since: "", until: "" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The API's query: empty filters left out, times in ISO with Bangkok's offset, a malformed actor dropped. */
export function filtersToQuery(f: AuditFilters): {
  entity_type?: string;
  entity_id?: string;
  actor_id?: string;
  action?: string;
  since?: string;
  until?: string;
} {
  const q: ReturnType<typeof filtersToQuery> = {};
  if (f.entity_type.trim()) q.entity_type = f.entity_type.trim();
  if (f.entity_id.trim()) q.entity_id = f.entity_id.trim();
  if (UUID.test(f.actor_id.trim())) q.actor_id = f.actor_id.trim();
  if (f.action.trim()) q.action = f.action.trim();
  const since = bangkokLocalToIso(f.since);
  const until = bangkokLocalToIso(f.until);
  if (since) q.since = since;
  if (until) q.until = until;
  return q;
}

export function isUuid(s: string): boolean {
  return UUID.test(s.trim());
}
