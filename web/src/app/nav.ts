import type { NavItem } from "../ui/AppShell";

/** The side navigation; an item is hidden from a role without its permission. */
export const NAV: readonly NavItem[] = [
  { to: "/inbox", label: "nav.inbox", permission: "conversation:read" },
  { to: "/customers", label: "nav.customers", permission: "customer:read" },
  { to: "/catalog", label: "nav.catalog", permission: "customer:read" },
  { to: "/dashboards", label: "nav.dashboards", permission: "dashboard:read" },
  { to: "/syncs", label: "nav.syncs", permission: "marketing:read" },
  { to: "/knowledge", label: "nav.knowledge", permission: "knowledge:manage" },
  { to: "/staff", label: "nav.staff", permission: "staff:admin" },
  { to: "/audit", label: "nav.audit", permission: "audit:read" },
];
