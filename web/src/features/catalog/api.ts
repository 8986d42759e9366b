/**
 * The catalog and orders' reads and writes. Product and session keys start with "catalog", order
 * keys with "orders": the live topics that invalidate them (an order change also invalidates
 * "catalog", so seats left update without a reload).
 */
import { keepPreviousData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../api/client";
import type { components, paths } from "../../api/client";

export type ProductQuery = NonNullable<paths["/api/v1/products"]["get"]["parameters"]["query"]>;
export type OrderQuery = NonNullable<paths["/api/v1/orders"]["get"]["parameters"]["query"]>;
export type Product = components["schemas"]["ProductOut"];
export type ProductSummary = components["schemas"]["ProductSummaryOut"];
export type ProductIn = components["schemas"]["ProductIn"];
export type Session = components["schemas"]["SessionOut"];
export type Order = components["schemas"]["OrderOut"];
export type OrderSummary = components["schemas"]["OrderSummary"];
export type OrderIn = components["schemas"]["OrderIn"];
export type PaymentIn = components["schemas"]["PaymentIn"];
export type RefundIn = components["schemas"]["RefundIn"];
export type PaymentMethod = PaymentIn["method"];
export type OrderStatus = Order["status"];
export type CustomerView = components["schemas"]["CustomerView"];

export const PAYMENT_METHODS: readonly PaymentMethod[] = ["transfer", "promptpay", "cash", "card"];
export const ORDER_STATUSES: readonly OrderStatus[] = ["pending", "paid", "refunded", "cancelled"];
export const PRODUCT_KINDS = ["course", "package", "equipment", "menu_item"] as const;
export type ProductKind = (typeof PRODUCT_KINDS)[number];

export const keys = {
  products: (q: ProductQuery) => ["catalog", "products", q] as const,
  product: (id: string) => ["catalog", "product", id] as const,
  sessions: (id: string) => ["catalog", "product", id, "sessions"] as const,
  orders: (q: OrderQuery) => ["orders", "list", q] as const,
  order: (id: string) => ["orders", "one", id] as const,
  customerSearch: (q: string) => ["customers", "search", q] as const,
};

export function useProducts(query: ProductQuery) {
  return useQuery({
    queryKey: keys.products(query),
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/products", { params: { query }, signal })),
  });
}

/** A value and the ETag to send back as If-Match. */
export interface Versioned<T> {
  value: T;
  etag: string | null;
}

async function withEtag<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Versioned<T>> {
  let result;
  try {
    result = await request;
  } catch (err) {
    throw ApiError.from(err);
  }
  const value = await unwrap(Promise.resolve(result));
  return { value, etag: result.response.headers.get("ETag") };
}

export function useProduct(id: string) {
  return useQuery({
    queryKey: keys.product(id),
    queryFn: ({ signal }) => withEtag(api.GET("/api/v1/products/{product_id}", { params: { path: { product_id: id } }, signal })),
  });
}

export function useSessions(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.sessions(id),
    enabled: enabled && id !== "",
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/products/{product_id}/sessions", { params: { path: { product_id: id } }, signal })),
  });
}

export function createProduct(body: ProductIn) {
  return unwrap(api.POST("/api/v1/products", { body }));
}

export function patchProductPrice(id: string, etag: string, price: string) {
  return withEtag(
    api.PATCH("/api/v1/products/{product_id}", {
      params: { path: { product_id: id }, header: { "if-match": etag } },
      body: { price },
    }),
  );
}

export function createSession(id: string, body: components["schemas"]["SessionIn"]) {
  return unwrap(api.POST("/api/v1/products/{product_id}/sessions", { params: { path: { product_id: id } }, body }));
}

export function useOrders(query: OrderQuery) {
  return useInfiniteQuery({
    queryKey: keys.orders(query),
    placeholderData: keepPreviousData,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/orders", { params: { query: { ...query, cursor: pageParam } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export function useOrder(id: string) {
  return useQuery({
    queryKey: keys.order(id),
    queryFn: ({ signal }) => withEtag(api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: id } }, signal })),
  });
}

export function createOrder(body: OrderIn, idempotencyKey: string) {
  return unwrap(api.POST("/api/v1/orders", { params: { header: { "Idempotency-Key": idempotencyKey } }, body }));
}

export function recordPayment(id: string, body: PaymentIn) {
  return unwrap(api.POST("/api/v1/orders/{order_id}/payments", { params: { path: { order_id: id } }, body }));
}

export function recordRefund(id: string, body: RefundIn) {
  return unwrap(api.POST("/api/v1/orders/{order_id}/refunds", { params: { path: { order_id: id } }, body }));
}

export function cancelOrder(id: string) {
  return unwrap(api.POST("/api/v1/orders/{order_id}/cancel", { params: { path: { order_id: id } } }));
}

export function useCustomerSearch(q: string) {
  return useQuery({
    queryKey: keys.customerSearch(q),
    enabled: q.trim().length >= 2,
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/customers", { params: { query: { q: q.trim(), limit: 8 } }, signal })),
  });
}

/** The name staff know a customer by. */
export function customerName(c: CustomerView): string {
  return c.display_name || c.name_th || c.name_latin || c.nickname || c.customer_id;
}

/** A product's name in the current language (the Thai name is always there). */
export function productName(p: { name_th: string; name_en: string | null }, lang: string): string {
  return lang === "en" && p.name_en ? p.name_en : p.name_th;
}
