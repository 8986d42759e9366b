/** What each KPI is and how it is shown (money exact, ratios as the API sends them). */
import { formatTHB } from "../../lib/format";
import type { Kpis } from "./api";
import { formatCount, formatRate, formatRoas, type Direction } from "./logic";

export type KpiKey = keyof Kpis;
export type KpiKind = "money" | "ratio" | "rate" | "count";

export interface KpiDef {
  key: KpiKey;
  kind: KpiKind;
  /** Whether a rise is good ("up"), bad ("down") or neither. */
  direction: Direction;
}

/** The cards at the top, in order. */
export const CARD_KPIS: readonly KpiDef[] = [
  { key: "spend", kind: "money", direction: "neutral" },
  { key: "revenue", kind: "money", direction: "up" },
  { key: "roas", kind: "ratio", direction: "up" },
  { key: "cac", kind: "money", direction: "down" },
  { key: "aov", kind: "money", direction: "up" },
  { key: "conversion_rate", kind: "rate", direction: "up" },
  { key: "cost_per_lead", kind: "money", direction: "down" },
  { key: "conversations_started", kind: "count", direction: "up" },
  { key: "cost_per_conversation", kind: "money", direction: "down" },
];

/** Every KPI, for the campaign table's columns. */
export const TABLE_KPIS: readonly KpiDef[] = [
  { key: "spend", kind: "money", direction: "neutral" },
  { key: "revenue", kind: "money", direction: "up" },
  { key: "attributed_revenue", kind: "money", direction: "up" },
  { key: "roas", kind: "ratio", direction: "up" },
  { key: "leads", kind: "count", direction: "up" },
  { key: "cost_per_lead", kind: "money", direction: "down" },
  { key: "conversations_started", kind: "count", direction: "up" },
  { key: "cost_per_conversation", kind: "money", direction: "down" },
  { key: "paid_orders", kind: "count", direction: "up" },
  { key: "aov", kind: "money", direction: "up" },
  { key: "new_paying_customers", kind: "count", direction: "up" },
  { key: "cac", kind: "money", direction: "down" },
  { key: "converted_leads", kind: "count", direction: "up" },
  { key: "conversion_rate", kind: "rate", direction: "up" },
];

/** The value of a KPI as staff read it; null when there is none (e.g. ROAS without spend). */
export function formatKpi(def: KpiDef, value: string | number | null | undefined): string | null {
  if (value == null) return null;
  switch (def.kind) {
    case "money":
      return formatTHB(String(value));
    case "ratio":
      return formatRoas(String(value));
    case "rate":
      return formatRate(String(value));
    case "count":
      return formatCount(Number(value));
  }
}
