/**
 * Money as the API sends it: exact decimal strings ("12500.00"). Never parseFloat money: this
 * works in satang with BigInt so a preview adds up exactly like the server.
 */

export type MoneyProblem = "required" | "format" | "decimals" | "positive";

const MONEY = /^\d+(?:\.\d*)?$/;

/**
 * Checks an amount typed by staff: digits with at most two decimals ("1,250.5" is accepted
 * without the grouping commas). Returns the problem, or null when it is a valid amount.
 */
export function moneyProblem(input: string, opts: { positive?: boolean } = {}): MoneyProblem | null {
  const text = normalizeMoneyInput(input);
  if (text === "") return "required";
  if (!MONEY.test(text)) return "format";
  const frac = text.split(".")[1] ?? "";
  if (frac.length > 2) return "decimals";
  if (opts.positive && toSatang(text) === 0n) return "positive";
  return null;
}

/** Trims and drops grouping commas and spaces: "12,500.00 " → "12500.00". */
export function normalizeMoneyInput(input: string): string {
  return input.trim().replace(/[,\s]/g, "");
}

/** A valid amount string → "12500.00" (two decimals), for the API. Throws on an invalid one. */
export function toApiAmount(input: string): string {
  const text = normalizeMoneyInput(input);
  if (moneyProblem(text) !== null) throw new RangeError(`Not an amount: ${input}`);
  return fromSatang(toSatang(text));
}

/** "12500.5" → 1250050n. Accepts an optional leading minus (the API's refunds never need it). */
export function toSatang(amount: string): bigint {
  const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(amount.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new RangeError(`Not a decimal amount: ${amount}`);
  const frac = m[3] ?? "";
  if (frac.length > 2 && /[1-9]/.test(frac.slice(2))) throw new RangeError(`More than two decimals: ${amount}`);
  const satang = BigInt(m[2] || "0") * 100n + BigInt((frac + "00").slice(0, 2));
  return m[1] ? -satang : satang;
}

/** 1250050n → "12500.50". */
export function fromSatang(satang: bigint): string {
  const negative = satang < 0n;
  const abs = negative ? -satang : satang;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
  return negative ? `-${text}` : text;
}

/** a − b, exactly. */
export function subtractMoney(a: string, b: string): string {
  return fromSatang(toSatang(a) - toSatang(b));
}

/** a ≥ b, exactly. */
export function moneyAtLeast(a: string, b: string): boolean {
  return toSatang(a) >= toSatang(b);
}

export interface DraftLine {
  /** The catalog price of one unit (a decimal string from the API). */
  unitPrice: string;
  quantity: number;
  /** As typed; empty means no discount. */
  discount: string;
}

/**
 * A line's total before the server computes it: unit price × quantity − discount. Null when the
 * discount is not a valid amount yet. Only a preview: the order shows the server's total.
 */
export function previewLineTotal(line: DraftLine): string | null {
  const discount = line.discount.trim() === "" ? "0" : normalizeMoneyInput(line.discount);
  if (moneyProblem(discount) !== null) return null;
  if (!Number.isInteger(line.quantity) || line.quantity < 1) return null;
  return fromSatang(toSatang(line.unitPrice) * BigInt(line.quantity) - toSatang(discount));
}

/** The sum of the lines' previews; null while any line is not valid. */
export function previewOrderTotal(lines: readonly DraftLine[]): string | null {
  let sum = 0n;
  for (const line of lines) {
    const total = previewLineTotal(line);
    if (total === null) return null;
    sum += toSatang(total);
  }
  return fromSatang(sum);
}
