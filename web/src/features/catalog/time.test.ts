import { describe, expect, it } from "vitest";
import { bangkokInputToIso, isoToBangkokInput } from "./time";

describe("Bangkok times", () => {
  it("reads a datetime-local value as Bangkok time", () => {
    expect(bangkokInputToIso("2026-12-06T09:30")).toBe("2026-12-06T09:30:00+07:00");
    expect(bangkokInputToIso("2026-12-06T09:30:15")).toBe("2026-12-06T09:30:15+07:00");
    expect(bangkokInputToIso("")).toBeNull();
    expect(bangkokInputToIso("tomorrow")).toBeNull();
  });
  it("writes an instant as Bangkok wall-clock time", () => {
    expect(isoToBangkokInput("2026-12-05T23:30:00Z")).toBe("2026-12-06T06:30");
    expect(isoToBangkokInput(new Date("2026-12-06T09:30:00+07:00"))).toBe("2026-12-06T09:30");
  });
});
