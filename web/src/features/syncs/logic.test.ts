import { describe, expect, it } from "vitest";
import { adviceFor, seemsStuck, earliestDay, pollInterval, progressPercent, validateBackfill } from "./logic";

describe("Meta error code → advice", () => {
  it("a refused or expired token asks for a new token", () => {
    expect(adviceFor(190)).toBe("token");
    expect(adviceFor(102)).toBe("token");
  });
  it("a missing permission asks for ads_read", () => {
    expect(adviceFor(10)).toBe("permission");
    expect(adviceFor(200)).toBe("permission");
    expect(adviceFor(294)).toBe("permission");
  });
  it("rate limits and temporary problems say to wait", () => {
    for (const code of [4, 17, 32, 613, 80000, 80004, 80014]) expect(adviceFor(code)).toBe("rateLimit");
    expect(adviceFor(80015)).toBe("unknown");
    expect(adviceFor(1)).toBe("transient");
    expect(adviceFor(2)).toBe("transient");
  });
  it("code 100 tells too much data from an invalid request", () => {
    expect(adviceFor(100, "Please reduce the amount of data you're asking for")).toBe("tooMuchData");
    expect(adviceFor(100, "Invalid parameter")).toBe("invalidParameter");
  });
  it("without a code the error text decides", () => {
    expect(adviceFor(null, "Meta could not be reached: ConnectTimeout")).toBe("unreachable");
    expect(adviceFor(null, "internal error: KeyError")).toBe("internal");
    expect(adviceFor(null, "3 rows could not be read and were left out (x)")).toBe("unknown");
    expect(adviceFor(null, null)).toBeNull();
  });
});

describe("polling", () => {
  it("polls every 2 s while a run is queued or running, and stops when none is", () => {
    expect(pollInterval(["succeeded", "running"])).toBe(2000);
    expect(pollInterval(["queued"])).toBe(2000);
    expect(pollInterval(["succeeded", "failed", "stopped"])).toBe(false);
    expect(pollInterval([])).toBe(false);
  });
  it("works out progress from jobs", () => {
    expect(progressPercent(3, 4)).toBe(75);
    expect(progressPercent(0, 0)).toBeNull();
    expect(progressPercent(5, 4)).toBe(100);
  });
});

describe("backfill form", () => {
  const now = new Date("2026-12-06T03:00:00Z");
  it("accepts a past range with a granularity", () => {
    expect(validateBackfill({ since: "2026-11-01", until: "2026-11-30", granularities: ["day", "hour"] }, now)).toEqual({});
  });
  it("refuses reversed, future, too old and empty", () => {
    expect(validateBackfill({ since: "2026-11-30", until: "2026-11-01", granularities: ["day"] }, now)).toEqual({
      until: "beforeSince",
    });
    expect(validateBackfill({ since: "2026-12-01", until: "2026-12-07", granularities: ["day"] }, now)).toEqual({
      until: "future",
    });
    expect(validateBackfill({ since: "2023-10-01", until: "2023-10-02", granularities: ["day"] }, now).since).toBe("tooOld");
    expect(validateBackfill({ since: "", until: "2026-12-01", granularities: [] }, now)).toEqual({
      since: "required",
      granularities: "required",
    });
  });
  it("Meta keeps 37 months", () => {
    expect(earliestDay("2026-12-06")).toBe("2023-11-06");
    expect(earliestDay("2026-03-31")).toBe("2023-02-28");
  });
});

describe("a run gone quiet", () => {
  const now = new Date("2026-12-06T03:00:00Z");
  it("is a running run without a heartbeat for over 2 minutes", () => {
    expect(seemsStuck({ status: "running", heartbeat_at: "2026-12-06T02:57:00Z" }, now)).toBe(true);
    expect(seemsStuck({ status: "running", heartbeat_at: "2026-12-06T02:59:00Z" }, now)).toBe(false);
    expect(seemsStuck({ status: "running", heartbeat_at: null, started_at: "2026-12-06T02:50:00Z" }, now)).toBe(true);
    expect(seemsStuck({ status: "succeeded", heartbeat_at: "2026-12-06T01:00:00Z" }, now)).toBe(false);
  });
});
