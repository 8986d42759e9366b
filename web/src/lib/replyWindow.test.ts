import { describe, expect, it } from "vitest";
import { replyWindow } from "./replyWindow";

const H = 3600_000;
const D = 24 * H;
const last = new Date("2026-12-01T10:00:00Z");
const at = (ms: number) => new Date(last.getTime() + ms);

describe("replyWindow", () => {
  it("is open within 24 h, closing 24 h after the customer's message", () => {
    const w = replyWindow(last.toISOString(), at(23 * H));
    expect(w.state).toBe("open");
    expect(w.closesAt?.toISOString()).toBe("2026-12-02T10:00:00.000Z");
  });
  it("is open one millisecond before 24 h and human_agent at exactly 24 h", () => {
    expect(replyWindow(last, at(D - 1)).state).toBe("open");
    const w = replyWindow(last, at(D));
    expect(w.state).toBe("human_agent");
    expect(w.closesAt?.toISOString()).toBe("2026-12-08T10:00:00.000Z");
  });
  it("is human_agent one millisecond before 7 days and closed at exactly 7 days", () => {
    expect(replyWindow(last, at(7 * D - 1)).state).toBe("human_agent");
    const w = replyWindow(last, at(7 * D));
    expect(w).toEqual({ state: "closed", closesAt: at(7 * D), reason: "expired" });
  });
  it("is closed long after", () => {
    expect(replyWindow(last, at(30 * D)).state).toBe("closed");
  });
  it("is closed when the customer never wrote", () => {
    expect(replyWindow(null, at(0))).toEqual({ state: "closed", closesAt: null, reason: "no_customer_message" });
  });
  it("treats a message slightly in the future (clock skew) as open", () => {
    expect(replyWindow(at(5000), at(0)).state).toBe("open");
  });
  it("reads offsets correctly (Bangkok time string)", () => {
    // 17:00+07:00 is 10:00Z: 24 h later is exactly human_agent
    expect(replyWindow("2026-12-01T17:00:00+07:00", at(D)).state).toBe("human_agent");
  });
});
