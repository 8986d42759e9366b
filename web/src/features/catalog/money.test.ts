import { describe, expect, it } from "vitest";
import {
  fromSatang,
  moneyAtLeast,
  moneyProblem,
  previewLineTotal,
  previewOrderTotal,
  subtractMoney,
  toApiAmount,
  toSatang,
} from "./money";

describe("moneyProblem", () => {
  it("accepts amounts with at most two decimals", () => {
    expect(moneyProblem("12500")).toBeNull();
    expect(moneyProblem("12500.5")).toBeNull();
    expect(moneyProblem("12,500.50")).toBeNull();
    expect(moneyProblem(" 0.01 ")).toBeNull();
    expect(moneyProblem("0")).toBeNull();
  });
  it("names what is wrong", () => {
    expect(moneyProblem("")).toBe("required");
    expect(moneyProblem("  ")).toBe("required");
    expect(moneyProblem("12.345")).toBe("decimals");
    expect(moneyProblem("abc")).toBe("format");
    expect(moneyProblem("-5")).toBe("format");
    expect(moneyProblem("1e3")).toBe("format");
    expect(moneyProblem(".")).toBe("format");
    expect(moneyProblem("0", { positive: true })).toBe("positive");
    expect(moneyProblem("0.00", { positive: true })).toBe("positive");
    expect(moneyProblem("0.01", { positive: true })).toBeNull();
  });
});

describe("exact arithmetic", () => {
  it("converts without float error", () => {
    expect(toSatang("0.1")).toBe(10n);
    expect(toSatang("12500.50")).toBe(1250050n);
    expect(toSatang("-3.5")).toBe(-350n);
    expect(fromSatang(1250050n)).toBe("12500.50");
    expect(fromSatang(-5n)).toBe("-0.05");
    expect(toApiAmount("12,500.5")).toBe("12500.50");
    expect(toApiAmount("7")).toBe("7.00");
    expect(() => toApiAmount("1.234")).toThrow();
  });
  it("subtracts and compares exactly", () => {
    expect(subtractMoney("0.3", "0.1")).toBe("0.20");
    expect(subtractMoney("12000.00", "12000")).toBe("0.00");
    expect(moneyAtLeast("100.00", "99.99")).toBe(true);
    expect(moneyAtLeast("99.99", "100")).toBe(false);
  });
  it("handles amounts beyond float precision", () => {
    expect(subtractMoney("90071992547409.93", "0.01")).toBe("90071992547409.92");
  });
});

describe("order total preview", () => {
  it("is price × quantity − discount, summed", () => {
    expect(previewLineTotal({ unitPrice: "12500.00", quantity: 2, discount: "500" })).toBe("24500.00");
    expect(previewLineTotal({ unitPrice: "0.10", quantity: 3, discount: "" })).toBe("0.30");
    expect(
      previewOrderTotal([
        { unitPrice: "12500.00", quantity: 1, discount: "" },
        { unitPrice: "990.50", quantity: 2, discount: "0.99" },
      ]),
    ).toBe("14480.01");
    expect(previewOrderTotal([])).toBe("0.00");
  });
  it("is unknown while a line is invalid", () => {
    expect(previewLineTotal({ unitPrice: "100.00", quantity: 1, discount: "1.234" })).toBeNull();
    expect(previewLineTotal({ unitPrice: "100.00", quantity: 0, discount: "" })).toBeNull();
    expect(previewOrderTotal([{ unitPrice: "1.00", quantity: 1, discount: "x" }])).toBeNull();
  });
});
