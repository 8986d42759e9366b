import { describe, expect, it, vi } from "vitest";

const store = new Map<string, string>([["crm.refresh_token", "r0"]]);
vi.stubGlobal("localStorage", {
  getItem: (k: string) => store.get(k) ?? null,
  setItem: (k: string, v: string) => void store.set(k, v),
  removeItem: (k: string) => void store.delete(k),
});

const { createApiClient, unwrap, ApiError } = await import("./client");
const { setTokens } = await import("./tokens");

const json = (body: unknown, status = 200, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": type } });

describe("api client", () => {
  it("sends the bearer, refreshes once on 401 and retries the request", async () => {
    setTokens({ access_token: "old", token_type: "bearer", expires_in: 900, refresh_token: "r0", refresh_expires_in: 100 });
    const seen: string[] = [];
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const url = typeof input === "string" ? input : input.url;
        if (url.endsWith("/api/v1/auth/refresh")) {
          expect(JSON.parse(String(init?.body))).toEqual({ refresh_token: "r0" });
          return json({ access_token: "new", token_type: "bearer", expires_in: 900, refresh_token: "r1", refresh_expires_in: 100 });
        }
        const auth = (input as Request).headers.get("Authorization") ?? "";
        seen.push(auth);
        if (auth === "Bearer old") return json({ type: "about:blank", title: "Unauthorized", status: 401, detail: "expired" }, 401, "application/problem+json");
        return json({ id: "u1", email: "a@b.c", role: "agent" });
      }),
    );
    const me = await unwrap(createApiClient("http://test").GET("/api/v1/auth/me"));
    expect(me.email).toBe("a@b.c");
    expect(seen).toEqual(["Bearer old", "Bearer new"]);
    expect(store.get("crm.refresh_token")).toBe("r1");
  });

  it("turns problem+json into a staff-readable ApiError", async () => {
    setTokens({ access_token: "t", token_type: "bearer", expires_in: 900, refresh_token: "r", refresh_expires_in: 100 });
    vi.stubGlobal("fetch", vi.fn(async () =>
      json({ type: "x", title: "Conflict", status: 409, detail: "Seat taken" }, 409, "application/problem+json"),
    ));
    const err = await unwrap(createApiClient("http://test").GET("/api/v1/auth/me")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, kind: "conflict", detail: "Seat taken", messageKey: "error.conflict" });
  });

  it("reports a network failure as ApiError kind network", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    const err = await unwrap(createApiClient("http://test").GET("/api/v1/auth/me")).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "network", messageKey: "error.network" });
  });
});
