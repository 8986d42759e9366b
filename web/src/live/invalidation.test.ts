import { describe, expect, it } from "vitest";
import { QueryClient } from "@tanstack/react-query";
import { invalidateFor } from "./invalidation";
import { parseLiveEvent } from "../lib/live";

function staleRoots(event: Parameters<typeof invalidateFor>[1]) {
  const qc = new QueryClient();
  for (const root of ["conversations", "customers", "orders", "catalog", "knowledge", "syncs", "dashboards"]) {
    qc.setQueryData([root, "list"], []);
  }
  invalidateFor(qc, event);
  return qc
    .getQueryCache()
    .getAll()
    .filter((q) => q.isStale())
    .map((q) => q.queryKey[0])
    .sort();
}

describe("live invalidation", () => {
  it("an order change also refreshes dashboards and catalog", () => {
    const e = parseLiveEvent("change", '{"topic":"orders","type":"order.paid","order_id":"o1"}', "3");
    expect(e).toMatchObject({ kind: "change", topic: "orders", order_id: "o1", id: "3" });
    expect(staleRoots(e!)).toEqual(["catalog", "dashboards", "orders"]);
  });
  it("a conversation change refreshes conversations only", () => {
    const e = parseLiveEvent("change", '{"topic":"conversations","type":"message.received","needs_human":true}', null);
    expect(staleRoots(e!)).toEqual(["conversations"]);
  });
  it("reset refreshes everything", () => {
    expect(staleRoots(parseLiveEvent("reset", "{}", null)!)).toHaveLength(7);
  });
  it("ignores unknown events and topics and bad JSON", () => {
    expect(parseLiveEvent("ping", "{}", null)).toBeNull();
    expect(parseLiveEvent("change", '{"topic":"weather"}', null)).toBeNull();
    expect(parseLiveEvent("change", "{oops", null)).toBeNull();
  });
});
