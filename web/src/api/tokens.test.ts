import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const store = new Map<string, string>();
vi.stubGlobal("localStorage", {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
});

const tokens = await import("./tokens");

function tokenOut(n: number) {
  return { access_token: `a${n}`, token_type: "bearer", expires_in: 900, refresh_token: `r${n}`, refresh_expires_in: 43200 };
}

describe("refreshTokens", () => {
  beforeEach(() => {
    store.clear();
    store.set("crm.refresh_token", "r0");
  });
  afterEach(() => {
    tokens.clearTokens();
    vi.unstubAllGlobals();
    vi.stubGlobal("localStorage", {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    });
  });

  it("serialises concurrent refreshes: the one-time refresh token is sent once", async () => {
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ refresh_token: "r0" });
      await new Promise((r) => setTimeout(r, 5));
      return new Response(JSON.stringify(tokenOut(1)), { status: 200 });
    });
    vi.stubGlobal("fetch", fetchMock);
    const results = await Promise.all([tokens.refreshTokens(), tokens.refreshTokens(), tokens.refreshTokens()]);
    expect(results).toEqual(["a1", "a1", "a1"]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(store.get("crm.refresh_token")).toBe("r1");
    expect(tokens.getAccessToken()).toBe("a1");
  });

  it("signs out when the server refuses the refresh token", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("{}", { status: 401 })));
    const reasons: string[] = [];
    const off = tokens.onSignedOut((r) => reasons.push(r));
    await expect(tokens.refreshTokens()).rejects.toBeInstanceOf(tokens.RefreshError);
    off();
    expect(reasons).toEqual(["refresh_failed"]);
    expect(store.has("crm.refresh_token")).toBe(false);
  });

  it("keeps the session on a network error", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    const reasons: string[] = [];
    const off = tokens.onSignedOut((r) => reasons.push(r));
    await expect(tokens.refreshTokens()).rejects.toMatchObject({ rejected: false });
    off();
    expect(reasons).toEqual([]);
    expect(store.get("crm.refresh_token")).toBe("r0");
  });
});
