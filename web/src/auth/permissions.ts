/**
 * Permissions. The API's /auth/me returns `permissions`; when it does not (older gateway),
 * they are derived from the role with the same matrix as the server.
 */
export const ALL_PERMISSIONS = [
  "customer:read",
  "customer:write",
  "customer:erase",
  "customer:export",
  "customer:merge",
  "order:write",
  "order:discount_over_cap",
  "order:refund",
  "catalog:write",
  "conversation:read",
  "conversation:reply",
  "conversation:manage",
  "marketing:read",
  "marketing:sync",
  "dashboard:read",
  "knowledge:manage",
  "audit:read",
  "staff:admin",
] as const;

export type Permission = (typeof ALL_PERMISSIONS)[number];
export type Role = "admin" | "manager" | "marketer" | "agent" | "viewer";

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ALL_PERMISSIONS,
  manager: ALL_PERMISSIONS.filter((p) => p !== "staff:admin"),
  marketer: [
    "customer:read",
    "conversation:read",
    "marketing:read",
    "marketing:sync",
    "dashboard:read",
    "catalog:write",
  ],
  agent: ["customer:read", "customer:write", "order:write", "conversation:read", "conversation:reply"],
  viewer: ["customer:read", "conversation:read", "marketing:read", "dashboard:read"],
};

export function isRole(x: string): x is Role {
  return x in ROLE_PERMISSIONS;
}

export function permissionsFor(role: string, fromApi?: readonly string[] | null): ReadonlySet<string> {
  if (Array.isArray(fromApi)) return new Set(fromApi);
  return new Set(isRole(role) ? ROLE_PERMISSIONS[role] : []);
}
