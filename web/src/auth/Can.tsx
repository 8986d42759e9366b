import type { ReactNode } from "react";
import { useCan } from "./context";
import type { Permission } from "./permissions";

/**
 * Renders its children only when the signed-in user has the permission: what a role may not
 * do is not shown at all (no disabled buttons). `fallback` is rendered otherwise.
 *   <Can permission="order:refund"><Button>Refund</Button></Can>
 */
export function Can({
  permission,
  children,
  fallback = null,
}: {
  permission: Permission;
  children: ReactNode;
  fallback?: ReactNode;
}) {
  return useCan(permission) ? children : fallback;
}
