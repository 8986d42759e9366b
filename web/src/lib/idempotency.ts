/** A fresh Idempotency-Key for one action a person may retry (the gateway takes 1 to 200 visible
 * ASCII characters). */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
