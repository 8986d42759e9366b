/**
 * Session tokens. The access token lives only in memory; the refresh token in localStorage
 * (it is the session, so a reload or a new tab stays signed in). Each refresh token works
 * ONCE: refreshes are serialised through one promise in this tab and through a Web Lock
 * across tabs, and the token is re-read from storage inside the lock so no used token is
 * ever presented again (that would revoke the whole session).
 */
import type { components } from "./schema";

export type TokenOut = components["schemas"]["TokenOut"];

const REFRESH_KEY = "crm.refresh_token";
const REFRESH_EARLY_MS = 60_000;

let accessToken: string | null = null;
let accessExpiresAt = 0;
let refreshTimer: ReturnType<typeof setTimeout> | null = null;
let inflight: Promise<string> | null = null;

type SignedOutListener = (reason: "refresh_failed" | "signed_out") => void;
const signedOutListeners = new Set<SignedOutListener>();

export function getAccessToken(): string | null {
  return accessToken && Date.now() < accessExpiresAt ? accessToken : null;
}

export function getRefreshToken(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

export function hasSession(): boolean {
  return getRefreshToken() !== null;
}

/** Store a new pair (after sign-in or refresh) and schedule the quiet refresh. */
export function setTokens(t: TokenOut): void {
  accessToken = t.access_token;
  accessExpiresAt = Date.now() + t.expires_in * 1000;
  try {
    localStorage.setItem(REFRESH_KEY, t.refresh_token);
  } catch {
    /* storage blocked: the session lasts as long as this tab */
  }
  if (refreshTimer) clearTimeout(refreshTimer);
  const delay = Math.max(5_000, t.expires_in * 1000 - REFRESH_EARLY_MS);
  refreshTimer = setTimeout(() => {
    refreshTokens().catch(() => {
      /* refreshTokens signs out on failure */
    });
  }, delay);
}

export function clearTokens(): void {
  accessToken = null;
  accessExpiresAt = 0;
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = null;
  try {
    localStorage.removeItem(REFRESH_KEY);
  } catch {
    /* ignore */
  }
}

/** Called by the auth provider to learn that the session is over (→ sign-in screen). */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export function signOutLocally(reason: "refresh_failed" | "signed_out"): void {
  clearTokens();
  for (const l of signedOutListeners) l(reason);
}

export class RefreshError extends Error {
  /** true: the server refused the token (session over); false: network trouble, may retry. */
  constructor(readonly rejected: boolean) {
    super(rejected ? "Session ended" : "Could not reach the server to refresh the session");
  }
}

async function withCrossTabLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request("crm-token-refresh", fn);
}

async function doRefresh(): Promise<string> {
  return withCrossTabLock(async () => {
    const token = getRefreshToken();
    if (!token) throw new RefreshError(true);
    let res: Response;
    try {
      res = await fetch("/api/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
    } catch {
      throw new RefreshError(false);
    }
    if (!res.ok) throw new RefreshError(res.status >= 400 && res.status < 500);
    const body = (await res.json()) as TokenOut;
    setTokens(body);
    return body.access_token;
  });
}

/**
 * Get a new access token. Concurrent callers share one request. When the server refuses
 * (the session is over) this signs out and rejects; on network trouble it only rejects.
 */
export function refreshTokens(): Promise<string> {
  if (!inflight) {
    inflight = doRefresh()
      .catch((err: unknown) => {
        if (!(err instanceof RefreshError) || err.rejected) signOutLocally("refresh_failed");
        throw err;
      })
      .finally(() => {
        inflight = null;
      });
  }
  return inflight;
}

/** A valid access token: the one in memory, else a refreshed one. */
export async function ensureAccessToken(): Promise<string> {
  return getAccessToken() ?? refreshTokens();
}
