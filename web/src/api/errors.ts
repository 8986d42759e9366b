import type { MessageKey } from "../i18n/en";

/** The body of every error answer of the gateway (RFC 9457 problem+json). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string | null;
  errors?: Array<Record<string, string>> | null;
}

export type ApiErrorKind =
  | "network"
  | "unauthorized"
  | "forbidden"
  | "notFound"
  | "conflict"
  | "validation"
  | "rateLimited"
  | "unavailable"
  | "server"
  | "unknown";

function kindOf(status: number): ApiErrorKind {
  if (status === 0) return "network";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404 || status === 410) return "notFound";
  if (status === 409 || status === 412) return "conflict";
  if (status === 400 || status === 422) return "validation";
  if (status === 429) return "rateLimited";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  if (status >= 500) return "server";
  return "unknown";
}

function isProblem(x: unknown): x is Problem {
  return typeof x === "object" && x !== null && ("detail" in x || "title" in x || "status" in x);
}

/**
 * An error from the API, safe to show to staff: never raw JSON or a stack trace.
 * Show `t(err.messageKey)` (translated, by kind); `detail` is the server's human sentence
 * (English) and `fieldErrors` the per-field problems of a 422, for forms.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly kind: ApiErrorKind;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  readonly type: string | undefined;
  readonly fieldErrors: Array<Record<string, string>>;

  constructor(status: number, problem?: Problem, cause?: unknown) {
    const kind = kindOf(status);
    const detail = typeof problem?.detail === "string" ? problem.detail : undefined;
    super(detail ?? problem?.title ?? `Request failed (${kind})`, { cause });
    this.name = "ApiError";
    this.status = status;
    this.kind = kind;
    this.title = problem?.title;
    this.detail = detail;
    this.type = problem?.type;
    this.fieldErrors = Array.isArray(problem?.errors) ? problem.errors : [];
  }

  /** The i18n key of the staff-readable sentence for this error. */
  get messageKey(): MessageKey {
    return `error.${this.kind}`;
  }

  static from(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    return new ApiError(0, undefined, err); // fetch failed: offline, DNS, CORS, …
  }

  static fromResponse(status: number, body: unknown): ApiError {
    return new ApiError(status, isProblem(body) ? body : undefined);
  }
}

/** The i18n key for any error (ApiError or not), for <ErrorState>. */
export function errorMessageKey(err: unknown): MessageKey {
  return err instanceof ApiError ? err.messageKey : "error.unknown";
}
