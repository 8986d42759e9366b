/** Times staff type are Bangkok wall-clock times (UTC+7 all year, no daylight saving). */

/** "2026-12-06T09:30" (a datetime-local value, Bangkok) → "2026-12-06T09:30:00+07:00". */
export function bangkokInputToIso(value: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!m) return null;
  return `${m[1]}T${m[2]}:${m[3] ?? "00"}+07:00`;
}

/** An instant as a datetime-local value in Bangkok: "2026-12-06T09:30". */
export function isoToBangkokInput(value: Date | string): string {
  const d = value instanceof Date ? value : new Date(value);
  const shifted = new Date(d.getTime() + 7 * 3600_000);
  return shifted.toISOString().slice(0, 16);
}
