/**
 * The dashboards' reads. Every key starts with "dashboards" (the live topic: a paid order or a
 * finished sync refetches them).
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/client";
import type { DayRange } from "./logic";

export type Attribution = "last_1d" | "last_7d" | "last_28d" | "first";
export type Kpis = components["schemas"]["Kpis"];
export type PeriodOut = components["schemas"]["PeriodOut"];
export type CampaignsOut = components["schemas"]["CampaignsOut"];
export type CampaignOut = components["schemas"]["CampaignOut"];
export type AdSetOut = components["schemas"]["AdSetOut"];
export type AdOut = components["schemas"]["AdOut"];
export type DailyOut = components["schemas"]["DailyOut"];
export type ProductsOut = components["schemas"]["RevenueByProductOut"];
export type ProductKind = NonNullable<ProductsOut["kind"]>;
export type ReconciliationOut = components["schemas"]["ReconciliationOut"];
export type CampaignReconciliation = components["schemas"]["CampaignReconciliation"];
export type IntegrityOut = components["schemas"]["IntegrityOut"];

/** What every dashboard answer says about how fresh it is. */
export interface Freshness {
  generated_at: string | null;
  last_event_at: string | null;
  age_seconds: number | null;
  stale: boolean;
  stale_reason?: "no_heartbeat" | "heartbeat_old" | "days_pending" | null;
  problems: { file: string; problem: string }[];
}

const REFRESH_MS = 60_000; // the age label stays honest; live changes refetch sooner

export const keys = {
  all: ["dashboards"] as const,
  summary: (r: DayRange, attribution: Attribution) => ["dashboards", "summary", r, attribution] as const,
  daily: (r: DayRange, attribution: Attribution) => ["dashboards", "daily", r, attribution] as const,
  campaigns: (r: DayRange, attribution: Attribution) => ["dashboards", "campaigns", r, attribution] as const,
  products: (r: DayRange, kind: ProductKind | null) => ["dashboards", "products", r, kind] as const,
  reconciliation: (r: DayRange) => ["dashboards", "reconciliation", r] as const,
  integrity: ["dashboards", "integrity"] as const,
};

export function useSummary(range: DayRange, attribution: Attribution) {
  return useQuery({
    queryKey: keys.summary(range, attribution),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dashboards/summary", {
          params: { query: { since: range.since, until: range.until, attribution } },
          signal,
        }),
      ),
  });
}

export function useDaily(range: DayRange, attribution: Attribution) {
  return useQuery({
    queryKey: keys.daily(range, attribution),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dashboards/daily", {
          params: { query: { since: range.since, until: range.until, attribution } },
          signal,
        }),
      ),
  });
}

export function useCampaigns(range: DayRange, attribution: Attribution) {
  return useQuery({
    queryKey: keys.campaigns(range, attribution),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dashboards/campaigns", {
          params: { query: { since: range.since, until: range.until, attribution } },
          signal,
        }),
      ),
  });
}

export function useProducts(range: DayRange, kind: ProductKind | null) {
  return useQuery({
    queryKey: keys.products(range, kind),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dashboards/products", {
          params: { query: { since: range.since, until: range.until, kind } },
          signal,
        }),
      ),
  });
}

export function useReconciliation(range: DayRange) {
  return useQuery({
    queryKey: keys.reconciliation(range),
    placeholderData: keepPreviousData,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dashboards/reconciliation", {
          params: { query: { since: range.since, until: range.until } },
          signal,
        }),
      ),
  });
}

export function useIntegrity() {
  return useQuery({
    queryKey: keys.integrity,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/dashboards/integrity", { signal })),
  });
}
