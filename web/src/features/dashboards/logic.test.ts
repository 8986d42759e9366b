import { describe, expect, it } from "vitest";
import { CARD_KPIS, TABLE_KPIS, formatKpi } from "./kpis";
import {
  byValue,
  compareDecimal,
  daysIn,
  formatChange,
  formatRate,
  freshAt,
  percentChange,
  presetRange,
  previousRange,
  rangeParams,
  toneOfChange,
} from "./logic";

// 17:30 UTC on 31 October is already 1 November in Bangkok.
const LATE_OCT_31_UTC = new Date("2026-10-31T17:30:00Z");
const DEC_6 = new Date("2026-12-06T03:00:00Z");

describe("ranges in Bangkok days", () => {
  it("today is the Bangkok day, not the UTC one", () => {
    expect(presetRange("today", LATE_OCT_31_UTC)).toEqual({ since: "2026-11-01", until: "2026-11-01" });
    expect(presetRange("yesterday", LATE_OCT_31_UTC)).toEqual({ since: "2026-10-31", until: "2026-10-31" });
  });
  it("7 and 30 days end today, included", () => {
    expect(presetRange("7d", DEC_6)).toEqual({ since: "2026-11-30", until: "2026-12-06" });
    expect(daysIn(presetRange("30d", DEC_6))).toBe(30);
    expect(presetRange("month", LATE_OCT_31_UTC)).toEqual({ since: "2026-11-01", until: "2026-11-01" });
  });
  it("custom ranges are used as given, swapped when reversed", () => {
    expect(presetRange("custom", DEC_6, { since: "2026-11-10", until: "2026-11-01" })).toEqual({
      since: "2026-11-01",
      until: "2026-11-10",
    });
    expect(presetRange("custom", DEC_6, { since: "nonsense" })).toEqual({ since: "2026-11-07", until: "2026-12-06" });
  });
  it("the previous period has the same length, just before", () => {
    expect(previousRange({ since: "2026-11-30", until: "2026-12-06" }, "7d")).toEqual({
      since: "2026-11-23",
      until: "2026-11-29",
    });
    expect(previousRange({ since: "2026-12-06", until: "2026-12-06" }, "today")).toEqual({
      since: "2026-12-05",
      until: "2026-12-05",
    });
    expect(previousRange({ since: "2026-03-01", until: "2026-03-02" }, "custom")).toEqual({
      since: "2026-02-27",
      until: "2026-02-28",
    });
  });
  it("this month compares with the same days of the month before, cut at its end", () => {
    expect(previousRange({ since: "2026-12-01", until: "2026-12-06" }, "month")).toEqual({
      since: "2026-11-01",
      until: "2026-11-06",
    });
    expect(previousRange({ since: "2026-03-01", until: "2026-03-31" }, "month")).toEqual({
      since: "2026-02-01",
      until: "2026-02-28",
    });
    expect(previousRange({ since: "2027-01-01", until: "2027-01-15" }, "month")).toEqual({
      since: "2026-12-01",
      until: "2026-12-15",
    });
  });
  it("query parameters are the Bangkok days, until included", () => {
    expect(rangeParams(presetRange("yesterday", DEC_6))).toEqual({ since: "2026-12-05", until: "2026-12-05" });
  });
});

describe("period comparison", () => {
  it("works out the change exactly from decimal strings", () => {
    expect(percentChange("1100.00", "1000.00")).toBe(10);
    expect(percentChange("500.50", "1300.25")).toBe(-61.5);
    expect(percentChange("0.30", "0.10")).toBe(200); // 0.1 + 0.2 float trouble does not apply
    expect(percentChange(3, 2)).toBe(50);
    expect(percentChange("1.0005", "1")).toBe(0.1);
  });
  it("has nothing to say without a previous value", () => {
    expect(percentChange("100.00", "0.00")).toBeNull();
    expect(percentChange(null, "1.00")).toBeNull();
    expect(percentChange("1.00", undefined)).toBeNull();
  });
  it("formats and judges the change", () => {
    expect(formatChange(12.5)).toBe("+12.5 %");
    expect(formatChange(-3)).toBe("−3.0 %");
    expect(toneOfChange(10, "down")).toBe("bad");
    expect(toneOfChange(-10, "down")).toBe("good");
    expect(toneOfChange(10, "neutral")).toBe("flat");
  });
  it("turns rates into percent exactly", () => {
    expect(formatRate("0.1250")).toBe("12.50 %");
    expect(formatRate("1.0000")).toBe("100.00 %");
    expect(formatRate("0.00005")).toBe("0.01 %");
    expect(formatRate(null)).toBeNull();
  });
});

describe("sorting decimal strings", () => {
  it("compares exactly, not as text or floats", () => {
    expect(compareDecimal("999.99", "1000.10")).toBeLessThan(0);
    expect(compareDecimal("-2000.00", "5")).toBeLessThan(0);
    expect(compareDecimal("0.10", "0.1")).toBe(0);
    expect(compareDecimal("12345678901234567.01", "12345678901234567.02")).toBeLessThan(0);
  });
  it("keeps none at the end in both directions", () => {
    const rows = [{ v: "10.00" }, { v: null }, { v: "9.50" }, { v: "100.00" }];
    expect([...rows].sort(byValue((r) => r.v, "desc")).map((r) => r.v)).toEqual(["100.00", "10.00", "9.50", null]);
    expect([...rows].sort(byValue((r) => r.v, "asc")).map((r) => r.v)).toEqual(["9.50", "10.00", "100.00", null]);
  });
  it("sorts names as text", () => {
    const rows = [{ v: "Sushi" }, { v: "Bento" }];
    expect(rows.sort(byValue((r) => r.v, "asc")).map((r) => r.v)).toEqual(["Bento", "Sushi"]);
  });
});

describe("how fresh an answer is", () => {
  const fetched = Date.parse("2026-12-06T03:00:00Z");
  it("is the fetch time minus its age", () => {
    expect(freshAt({ age_seconds: 120, generated_at: "2026-12-01T00:00:00Z" }, fetched)?.toISOString()).toBe(
      "2026-12-06T02:58:00.000Z",
    );
  });
  it("falls back on when the file was written, else unknown", () => {
    expect(freshAt({ age_seconds: null, generated_at: "2026-12-06T02:00:00Z" }, fetched)?.toISOString()).toBe(
      "2026-12-06T02:00:00.000Z",
    );
    expect(freshAt({ age_seconds: null, generated_at: null }, fetched)).toBeNull();
  });
});

describe("KPI values", () => {
  const def = (key: string) => TABLE_KPIS.find((d) => d.key === key)!;
  it("shows money exactly, ratios and rates as sent, none as none", () => {
    expect(formatKpi(def("spend"), "1300.25")).toBe("฿1,300.25");
    expect(formatKpi(def("cac"), "0.10")).toBe("฿0.10");
    expect(formatKpi(def("roas"), "26.97")).toBe("26.97×");
    expect(formatKpi(def("conversion_rate"), "0.1250")).toBe("12.50 %");
    expect(formatKpi(def("leads"), 1234)).toBe("1,234");
    expect(formatKpi(def("roas"), null)).toBeNull();
  });
  it("has a card for each KPI the dashboard promises", () => {
    expect(CARD_KPIS.map((d) => d.key)).toEqual([
      "spend",
      "revenue",
      "roas",
      "cac",
      "aov",
      "conversion_rate",
      "cost_per_lead",
      "conversations_started",
      "cost_per_conversation",
    ]);
  });
});
