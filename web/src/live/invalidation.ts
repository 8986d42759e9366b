import type { QueryClient } from "@tanstack/react-query";
import type { LiveEvent, LiveTopic } from "../lib/live";

/**
 * Which query-key roots a change of each topic makes stale. Query keys start with their
 * root: ["conversations", …], ["customers", …], ["orders", …], ["catalog", …],
 * ["knowledge", …], ["syncs", …], ["dashboards", …].
 */
export const TOPIC_KEYS: Record<LiveTopic, readonly string[]> = {
  conversations: ["conversations"],
  customers: ["customers"],
  orders: ["orders", "dashboards", "catalog"], // seats and revenue change with orders
  catalog: ["catalog"],
  knowledge: ["knowledge"],
  syncs: ["syncs", "dashboards"],
};

export function invalidateFor(queryClient: QueryClient, event: LiveEvent): void {
  if (event.kind === "reset") {
    void queryClient.invalidateQueries(); // everything: we may have missed anything
    return;
  }
  for (const root of TOPIC_KEYS[event.topic]) {
    void queryClient.invalidateQueries({ queryKey: [root] });
  }
}
