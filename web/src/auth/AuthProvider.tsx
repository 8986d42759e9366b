import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import {
  clearTokens,
  hasSession,
  onSignedOut,
  refreshTokens,
  setTokens,
  signOutLocally,
  type TokenOut,
} from "../api/tokens";
import { AuthContext, type AuthState, type Me } from "./context";
import { permissionsFor, isRole, type Permission } from "./permissions";

async function loadMe(): Promise<Me> {
  const raw = await unwrap(api.GET("/api/v1/auth/me"));
  // `permissions` is being added to the API; until the schema has it, treat it as optional.
  const perms = (raw as { permissions?: string[] | null }).permissions;
  const role = isRole(raw.role) ? raw.role : "viewer";
  return { id: raw.id, email: raw.email, role, permissions: permissionsFor(role, perms) };
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AuthState["status"]>(() => (hasSession() ? "restoring" : "signedOut"));
  const [me, setMe] = useState<Me | null>(null);
  const [signedOutReason, setSignedOutReason] = useState<AuthState["signedOutReason"]>(null);

  // Any part of the app (client middleware, live stream) may end the session.
  useEffect(
    () =>
      onSignedOut((reason) => {
        setMe(null);
        setStatus("signedOut");
        setSignedOutReason(reason);
        queryClient.clear();
      }),
    [queryClient],
  );

  // Restore a session from the stored refresh token (reload, new tab).
  useEffect(() => {
    if (status !== "restoring") return;
    let cancelled = false;
    refreshTokens()
      .then(loadMe)
      .then((m) => {
        if (cancelled) return;
        setMe(m);
        setStatus("signedIn");
      })
      .catch(() => {
        if (cancelled) return;
        // Refused → already signed out by tokens.ts; offline → show sign-in, keep nothing.
        setStatus("signedOut");
      });
    return () => {
      cancelled = true;
    };
  }, [status]);

  const signIn = useCallback(async (email: string, password: string) => {
    const tokens: TokenOut = await unwrap(
      api.POST("/api/v1/auth/token", {
        body: { username: email, password, scope: "" },
        bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
    );
    setTokens(tokens);
    try {
      const m = await loadMe();
      setMe(m);
      setSignedOutReason(null);
      setStatus("signedIn");
    } catch (err) {
      clearTokens();
      throw err;
    }
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api.POST("/api/v1/auth/logout");
    } catch {
      /* offline: still forget the session here */
    }
    signOutLocally("signed_out");
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      status,
      me,
      signedOutReason,
      signIn,
      signOut,
      can: (p: Permission) => me?.permissions.has(p) ?? false,
    }),
    [status, me, signedOutReason, signIn, signOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
