import { describe, expect, it } from "vitest";

import { newIdempotencyKey } from "./idempotency";

describe("newIdempotencyKey", () => {
  it("gives a different key each time, of 1 to 200 visible ASCII characters", () => {
    const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(50);
    for (const key of keys) expect(key).toMatch(/^[\x21-\x7e]{1,200}$/);
  });
});
