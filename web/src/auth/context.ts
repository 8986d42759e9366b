import { createContext, useContext } from "react";
import type { Permission, Role } from "./permissions";

export interface Me {
  id: string;
  email: string;
  role: Role;
  permissions: ReadonlySet<string>;
}

export type AuthStatus = "restoring" | "signedOut" | "signedIn";

export interface AuthState {
  status: AuthStatus;
  me: Me | null;
  /** Why the user is signed out, for the sign-in screen ("refresh_failed" → session ended). */
  signedOutReason: "refresh_failed" | "signed_out" | null;
  /** Throws ApiError (status 401: wrong e-mail or password; 429: too many attempts). */
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  can: (permission: Permission) => boolean;
}

export const AuthContext = createContext<AuthState | null>(null);

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth must be used inside <AuthProvider>");
  return ctx;
}

/** `useCan("order:refund")`: whether the signed-in user may do it. */
export function useCan(permission: Permission): boolean {
  return useAuth().can(permission);
}
