import { describe, expect, it } from "vitest";
import { bangkokLocalToIso, changeRows, filtersToQuery, formatValue, EMPTY_FILTERS } from "./logic";

const words = { none: "—", yes: "Yes", no: "No" };

describe("changes as before/after rows", () => {
  it("lists each field with its before and after", () => {
    expect(
      changeRows({ role: { before: "agent", after: "manager" }, email: { before: null, after: "a***@x.com" } }),
    ).toEqual([
      { field: "email", before: null, after: "a***@x.com" },
      { field: "role", before: "agent", after: "manager" },
    ]);
    expect(changeRows({ merged_into: "TVS-1" })).toEqual([{ field: "merged_into", before: null, after: "TVS-1" }]);
    expect(changeRows(null)).toEqual([]);
  });
  it("formats values without JSON", () => {
    expect(formatValue(null, words)).toBe("—");
    expect(formatValue(true, words)).toBe("Yes");
    expect(formatValue(["vip", "sushi"], words)).toBe("vip, sushi");
    expect(formatValue({ status: "granted", at: "2026-12-01" }, words)).toBe("status: granted; at: 2026-12-01");
    expect(formatValue(12, words)).toBe("12");
  });
});

describe("filters", () => {
  it("reads datetime-local fields as Bangkok time", () => {
    expect(bangkokLocalToIso("2026-12-06T10:30")).toBe("2026-12-06T10:30:00+07:00");
    expect(bangkokLocalToIso("")).toBeNull();
  });
  it("leaves out empty filters and a malformed actor", () => {
    expect(filtersToQuery({ ...EMPTY_FILTERS, entity_type: " staff ", actor_id: "nope", since: "2026-12-01T00:00" })).toEqual({
      entity_type: "staff",
      since: "2026-12-01T00:00:00+07:00",
    });
  });
});
