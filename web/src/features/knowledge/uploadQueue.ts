/**
 * The upload queue: each file staff drop or pick has its own row with its own outcome. Pure (a
 * reducer and a few selectors) so it is easy to test; KnowledgePage runs the uploads.
 */

export const MAX_BYTES = 20 * 1024 * 1024;
/** Uploads at once: the rest wait their turn. */
export const CONCURRENCY = 2;

export type UploadStatus = "waiting" | "uploading" | "created" | "unchanged" | "failed";

export type UploadProblem =
  | "tooLarge"
  | "empty"
  | "unsupported"
  | "forbidden"
  | "network"
  | "unavailable"
  | "notFound"
  | "server";

export interface UploadItem {
  /** Local id of the row (not the document's). */
  id: number;
  fileName: string;
  size: number;
  /** PUT a new version of this document instead of POSTing a new one. */
  replaces: string | null;
  status: UploadStatus;
  /** The document the upload became (created, or the same bytes already there). */
  documentId: string | null;
  problem: UploadProblem | null;
  /** The server's sentence, e.g. which types it reads. */
  detail: string | null;
}

export interface QueueState {
  items: UploadItem[];
  nextId: number;
}

export const emptyQueue: QueueState = { items: [], nextId: 1 };

export type QueueAction =
  | { type: "add"; files: ReadonlyArray<{ name: string; size: number }>; replaces?: string | null }
  | { type: "start"; id: number }
  | { type: "done"; id: number; documentId: string; created: boolean }
  | { type: "fail"; id: number; problem: UploadProblem; detail?: string | null }
  | { type: "dismiss"; id: number }
  | { type: "clearFinished" };

/** Problems found before uploading (the server checks again). */
export function precheck(file: { size: number }): UploadProblem | null {
  if (file.size === 0) return "empty";
  if (file.size > MAX_BYTES) return "tooLarge";
  return null;
}

export function queueReducer(state: QueueState, action: QueueAction): QueueState {
  switch (action.type) {
    case "add": {
      let nextId = state.nextId;
      const added = action.files.map((f): UploadItem => {
        const problem = precheck(f);
        return {
          id: nextId++,
          fileName: f.name,
          size: f.size,
          replaces: action.replaces ?? null,
          status: problem ? "failed" : "waiting",
          documentId: null,
          problem,
          detail: null,
        };
      });
      return { items: [...state.items, ...added], nextId };
    }
    case "start":
      return patch(state, action.id, (i) => (i.status === "waiting" ? { ...i, status: "uploading" } : i));
    case "done":
      return patch(state, action.id, (i) => ({
        ...i,
        status: action.created ? "created" : "unchanged",
        documentId: action.documentId,
        problem: null,
        detail: null,
      }));
    case "fail":
      return patch(state, action.id, (i) => ({ ...i, status: "failed", problem: action.problem, detail: action.detail ?? null }));
    case "dismiss":
      return { ...state, items: state.items.filter((i) => i.id !== action.id || isActive(i)) };
    case "clearFinished":
      return { ...state, items: state.items.filter(isActive) };
  }
}

function patch(state: QueueState, id: number, f: (i: UploadItem) => UploadItem): QueueState {
  return { ...state, items: state.items.map((i) => (i.id === id ? f(i) : i)) };
}

export function isActive(item: UploadItem): boolean {
  return item.status === "waiting" || item.status === "uploading";
}

/** The waiting rows to start now so that at most `limit` upload at once, oldest first. */
export function toStart(state: QueueState, limit = CONCURRENCY): UploadItem[] {
  const running = state.items.filter((i) => i.status === "uploading").length;
  const free = Math.max(0, limit - running);
  return state.items.filter((i) => i.status === "waiting").slice(0, free);
}

/** The problem of an HTTP status from the upload. */
export function problemOfStatus(status: number): UploadProblem {
  if (status === 413) return "tooLarge";
  if (status === 415) return "unsupported";
  if (status === 403) return "forbidden";
  if (status === 404) return "notFound";
  if (status === 0) return "network";
  if (status === 502 || status === 503 || status === 504) return "unavailable";
  return "server";
}

// ---------------------------------------------------------------- the document list

export interface Indexable {
  status: "queued" | "indexing" | "ready" | "failed";
}

export function isSettled(doc: Indexable): boolean {
  return doc.status === "ready" || doc.status === "failed";
}

/** Poll every second while any document is queued or indexing; stop when all are settled. */
export function pollInterval(docs: readonly Indexable[] | undefined): number | false {
  if (!docs) return false;
  return docs.some((d) => !isSettled(d)) ? 1000 : false;
}

/** 0–100, for a progress bar; 0 while the total is not known. */
export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

/** 1536 → "1.5 KB"; sizes of files, not money. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
