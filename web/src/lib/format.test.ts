import { describe, expect, it } from "vitest";
import { bangkokDay, formatDate, formatDateTime, formatRelative, formatTHB, formatTime } from "./format";

describe("formatTHB", () => {
  it.each([
    ["12345.50", "฿12,345.50"],
    ["0", "฿0.00"],
    ["0.1", "฿0.10"],
    ["5", "฿5.00"],
    ["-1234.5", "-฿1,234.50"],
    ["1000000", "฿1,000,000.00"],
    ["999.99", "฿999.99"],
    [".5", "฿0.50"],
    ["+7.25", "฿7.25"],
  ])("%s → %s", (input, out) => expect(formatTHB(input)).toBe(out));

  it("rounds half away from zero without float error", () => {
    expect(formatTHB("1.005")).toBe("฿1.01"); // (1.005).toFixed(2) === "1.00"
    expect(formatTHB("2.675")).toBe("฿2.68"); // float would give 2.67
    expect(formatTHB("-1.005")).toBe("-฿1.01");
    expect(formatTHB("0.004")).toBe("฿0.00");
    expect(formatTHB("-0.004")).toBe("฿0.00"); // no "-฿0.00"
    expect(formatTHB("999.995")).toBe("฿1,000.00");
  });

  it("keeps every digit of big values", () => {
    expect(formatTHB("12345678901234567890.12")).toBe("฿12,345,678,901,234,567,890.12");
    expect(formatTHB("9007199254740993.01")).toBe("฿9,007,199,254,740,993.01"); // > 2^53
  });

  it("accepts numbers", () => {
    expect(formatTHB(0.1 + 0.2)).toBe("฿0.30");
    expect(formatTHB(-42)).toBe("-฿42.00");
    expect(formatTHB(1e21)).toBe("฿1,000,000,000,000,000,000,000.00");
  });

  it("refuses what is not an amount", () => {
    expect(() => formatTHB("abc")).toThrow();
    expect(() => formatTHB("")).toThrow();
    expect(() => formatTHB("1,000")).toThrow();
    expect(() => formatTHB(Number.NaN)).toThrow();
  });
});

describe("dates in Asia/Bangkok", () => {
  // 17:30 UTC on 5 Dec is 00:30 on 6 Dec in Bangkok (UTC+7): the day must be the 6th.
  const justAfterMidnightBkk = "2026-12-05T17:30:00Z";
  // 16:59 UTC is 23:59 in Bangkok: still the 5th.
  const justBeforeMidnightBkk = "2026-12-05T16:59:00Z";

  it("uses Bangkok's day, not UTC's, around midnight", () => {
    expect(formatDate(justAfterMidnightBkk, "en")).toBe("6 Dec 2026");
    expect(formatDate(justBeforeMidnightBkk, "en")).toBe("5 Dec 2026");
    expect(bangkokDay(justAfterMidnightBkk)).toBe("2026-12-06");
    expect(formatTime(justAfterMidnightBkk, "en")).toBe("00:30");
    expect(formatTime(justBeforeMidnightBkk, "th")).toBe("23:59");
  });

  it("writes the Buddhist year in Thai by default, Gregorian on request", () => {
    expect(formatDate(justAfterMidnightBkk, "th")).toBe("6 ธ.ค. 2569");
    expect(formatDate(justAfterMidnightBkk, "th", { era: "gregorian" })).toBe("6 ธ.ค. 2026");
    expect(formatDate("2026-01-01T00:00:00+07:00", "th")).toBe("1 ม.ค. 2569");
  });

  it("formats date and time together", () => {
    expect(formatDateTime(justAfterMidnightBkk, "en")).toBe("6 Dec 2026, 00:30");
    expect(formatDateTime(justAfterMidnightBkk, "th")).toBe("6 ธ.ค. 2569 00:30");
  });

  it("new year's eve: 31 Dec 18:00 UTC is already next year in Bangkok", () => {
    expect(formatDate("2026-12-31T18:00:00Z", "en")).toBe("1 Jan 2027");
    expect(formatDate("2026-12-31T18:00:00Z", "th")).toBe("1 ม.ค. 2570");
  });

  it("refuses invalid dates", () => {
    expect(() => formatDate("not a date", "en")).toThrow();
  });
});

describe("formatRelative", () => {
  const now = new Date("2026-12-06T06:00:00Z");
  const ago = (ms: number) => new Date(now.getTime() - ms);
  it("says 'just now' under 45 s", () => {
    expect(formatRelative(ago(10_000), now, "en")).toBe("just now");
    expect(formatRelative(ago(10_000), now, "th")).toBe("เมื่อสักครู่");
  });
  it("minutes, hours, days", () => {
    expect(formatRelative(ago(5 * 60_000), now, "en")).toBe("5 min ago");
    expect(formatRelative(ago(5 * 60_000), now, "th")).toBe("5 นาทีที่แล้ว");
    expect(formatRelative(ago(3 * 3600_000), now, "en")).toBe("3 h ago");
    expect(formatRelative(ago(3 * 3600_000), now, "th")).toBe("3 ชั่วโมงที่แล้ว");
    expect(formatRelative(ago(2 * 86400_000), now, "en")).toBe("2 d ago");
    expect(formatRelative(ago(2 * 86400_000), now, "th")).toBe("2 วันที่แล้ว");
  });
  it("future and old dates", () => {
    expect(formatRelative(new Date(now.getTime() + 10 * 60_000), now, "en")).toBe("in 10 min");
    expect(formatRelative(ago(8 * 86400_000), now, "en")).toBe("28 Nov 2026");
  });
});
