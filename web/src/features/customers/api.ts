/**
 * The customers area's reads and writes. Every query key starts with "customers" (the live topic
 * that invalidates it), so a new lead score, insight or stage appears without a reload.
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, unwrap, ApiError } from "../../api/client";
import type { components, paths } from "../../api/client";
import { etagOf, versionOfEtag, type CustomerView } from "./logic";

export type ListQuery = NonNullable<paths["/api/v1/customers"]["get"]["parameters"]["query"]>;
export type OrderSummary = components["schemas"]["OrderSummary"];
export type ErasureRequest = components["schemas"]["ErasureRequestOut"];

export const keys = {
  all: ["customers"] as const,
  list: (q: ListQuery) => ["customers", "list", q] as const,
  one: (id: string) => ["customers", "one", id] as const,
  record: (id: string) => ["customers", "one", id, "record"] as const,
  overview: (id: string) => ["customers", "one", id, "overview"] as const,
  notes: (id: string) => ["customers", "one", id, "notes"] as const,
  timeline: (id: string) => ["customers", "one", id, "timeline"] as const,
  orders: (id: string) => ["customers", "one", id, "orders"] as const,
  duplicates: (id: string) => ["customers", "one", id, "duplicates"] as const,
  erasures: (id: string) => ["customers", "one", id, "erasures"] as const,
  erasure: (requestId: string) => ["customers", "erasure", requestId] as const,
  conversation: (id: string, psid: string) => ["customers", "one", id, "conversation", psid] as const,
};

export function useCustomerList(query: ListQuery) {
  return useInfiniteQuery({
    queryKey: keys.list(query),
    placeholderData: keepPreviousData,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/customers", { params: { query: { ...query, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export interface CustomerRecord {
  customer: CustomerView;
  /** The ETag to send as If-Match. */
  etag: string;
}

/** GET one customer with its ETag (the version the edit form is based on). */
export async function fetchCustomerRecord(id: string, signal?: AbortSignal): Promise<CustomerRecord> {
  let result;
  try {
    result = await api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: id } }, signal });
  } catch (err) {
    throw ApiError.from(err);
  }
  const customer = await unwrap(Promise.resolve(result));
  const fromHeader = versionOfEtag(result.response.headers.get("ETag"));
  // The body's version is the ETag too; take the newer if a cache served an older header.
  const version = Math.max(fromHeader ?? 0, customer.version ?? 1);
  return { customer, etag: etagOf(version) };
}

/**
 * The customer as the database holds it now, with its ETag (the 360 reads the database; a single
 * customer's GET may come from the cache-writer's snapshot, a moment behind a change).
 */
export async function fetchFreshRecord(id: string): Promise<CustomerRecord> {
  let result;
  try {
    result = await api.GET("/api/v1/customers/{customer_id}/overview", { params: { path: { customer_id: id } } });
  } catch (err) {
    throw ApiError.from(err);
  }
  const o = await unwrap(Promise.resolve(result));
  const version = Math.max(versionOfEtag(result.response.headers.get("ETag")) ?? 0, o.customer.version ?? 1);
  return { customer: o.customer, etag: etagOf(version) };
}

/** Of two reads of the customer, the later version. */
export function newerRecord(a: CustomerRecord, b: CustomerRecord): CustomerRecord {
  return (versionOfEtag(b.etag) ?? 0) > (versionOfEtag(a.etag) ?? 0) ? b : a;
}

export function useCustomerRecord(id: string) {
  return useQuery({ queryKey: keys.record(id), queryFn: ({ signal }) => fetchCustomerRecord(id, signal) });
}

export function useOverview(id: string) {
  return useQuery({
    queryKey: keys.overview(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/customers/{customer_id}/overview", { params: { path: { customer_id: id } }, signal })),
  });
}

export function useNotes(id: string) {
  return useQuery({
    queryKey: keys.notes(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/customers/{customer_id}/notes", { params: { path: { customer_id: id } }, signal })),
  });
}

export function useTimeline(id: string) {
  return useInfiniteQuery({
    queryKey: keys.timeline(id),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(
        api.GET("/api/v1/customers/{customer_id}/timeline", {
          params: { path: { customer_id: id }, query: { limit: 20, cursor: pageParam } },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export function useOrders(id: string) {
  return useInfiniteQuery({
    queryKey: keys.orders(id),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/orders", { params: { query: { customer_id: id, limit: 20, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export function useDuplicates(id: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.duplicates(id),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/customers/{customer_id}/duplicates", { params: { path: { customer_id: id } }, signal })),
  });
}

export function useErasureRequests(id: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.erasures(id),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/customers/{customer_id}/erasure-requests", { params: { path: { customer_id: id } }, signal }),
      ),
  });
}

/** One erasure request, polled every 2 s until every service has erased its copy. */
export function useErasureRequest(requestId: string | null) {
  return useQuery({
    queryKey: keys.erasure(requestId ?? ""),
    enabled: requestId !== null,
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/erasure-requests/{request_id}", { params: { path: { request_id: requestId! } }, signal })),
    refetchInterval: (q) => (q.state.data && q.state.data.completed_at ? false : 2000),
  });
}

/**
 * The customer's Messenger conversation. The API has no filter by PSID, so this looks through
 * the most recent conversations (one page of 200) for it.
 */
export function useConversationByPsid(id: string, psid: string | null, enabled: boolean) {
  return useQuery({
    queryKey: keys.conversation(id, psid ?? ""),
    enabled: enabled && psid !== null,
    staleTime: 60_000,
    queryFn: async ({ signal }) => {
      const page = await unwrap(api.GET("/api/v1/conversations", { params: { query: { limit: 200 } }, signal }));
      return page.items.find((c) => c.psid === psid) ?? null;
    },
  });
}
