/**
 * The typed API client. Paths and bodies are checked against src/api/schema.d.ts, which is
 * generated from ../contracts/openapi/gateway.json (`npm run gen:api`).
 *
 *   import { api, unwrap } from "../api/client";
 *   const page = await unwrap(api.GET("/api/v1/customers", { params: { query: { q } } }));
 *
 * The middleware adds `Authorization: Bearer <access>`; on a 401 it refreshes once
 * (serialised, see tokens.ts) and retries the request once; if the refresh is refused the
 * user is signed out (the auth provider shows the sign-in screen).
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { ApiError } from "./errors";
import { getAccessToken, getRefreshToken, refreshTokens } from "./tokens";

export { ApiError } from "./errors";
export type { paths, components } from "./schema";

/** Endpoints that must not carry the bearer or trigger a refresh. */
const OPEN_PATHS = new Set(["/api/v1/auth/token", "/api/v1/auth/refresh"]);

const retryCopies = new WeakMap<Request, Request>();

const authMiddleware: Middleware = {
  async onRequest({ request, schemaPath }) {
    if (OPEN_PATHS.has(schemaPath)) return request;
    let token = getAccessToken();
    if (!token && getRefreshToken()) {
      // Expired in memory (e.g. after a reload): refresh first rather than earn a 401.
      token = await refreshTokens().catch(() => null);
    }
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    retryCopies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response, schemaPath }) {
    if (response.status !== 401 || OPEN_PATHS.has(schemaPath)) return response;
    const copy = retryCopies.get(request);
    if (!copy || !getRefreshToken()) return response;
    let token: string;
    try {
      token = await refreshTokens();
    } catch {
      return response; // signed out (or offline): let the caller see the 401
    }
    copy.headers.set("Authorization", `Bearer ${token}`);
    return fetch(copy); // once: this fetch does not go through the middleware again
  },
};

/** A client with the auth middleware; the app uses `api` (same origin). */
export function createApiClient(baseUrl = "") {
  const client = createClient<paths>({ baseUrl, fetch: (req) => fetch(req) });
  client.use(authMiddleware);
  return client;
}

export const api = createApiClient();

type Result<D> = { data?: D; error?: unknown; response: Response };

/**
 * The data of an answer, or an ApiError (staff-readable) for an error answer or a network
 * failure. Use in query functions: `queryFn: () => unwrap(api.GET(...))`.
 */
export async function unwrap<D>(request: Promise<Result<D>>): Promise<D> {
  let result: Result<D>;
  try {
    result = await request;
  } catch (err) {
    throw ApiError.from(err);
  }
  if (!result.response.ok || result.error !== undefined) {
    throw ApiError.fromResponse(result.response.status, result.error);
  }
  return result.data as D;
}
