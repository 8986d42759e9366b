import { useCallback, useRef, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { keys, uploadDocument, type UploadFields } from "./api";
import { emptyQueue, problemOfStatus, queueReducer, toStart, type QueueAction, type QueueState } from "./uploadQueue";

interface Runner {
  current: { current: QueueState };
  pending: { current: Map<number, { file: File; fields: UploadFields }> };
  apply: (action: QueueAction) => void;
  refresh: () => void;
}

/** Starts what may start now; each finished upload starts the next. */
function pump(run: Runner): void {
  for (const item of toStart(run.current.current)) {
    const job = run.pending.current.get(item.id);
    if (!job) {
      run.apply({ type: "fail", id: item.id, problem: "server" });
      continue;
    }
    run.apply({ type: "start", id: item.id });
    void uploadDocument(job.file, job.fields, item.replaces)
      .then(
        (r) => {
          run.apply({ type: "done", id: item.id, documentId: r.doc.id, created: r.created });
          run.refresh();
        },
        (err: unknown) => {
          const status = err instanceof ApiError ? err.status : 0;
          run.apply({
            type: "fail",
            id: item.id,
            problem: problemOfStatus(status),
            detail: err instanceof ApiError ? (err.detail ?? null) : null,
          });
        },
      )
      .finally(() => {
        run.pending.current.delete(item.id);
        pump(run);
      });
  }
}

/**
 * Runs the upload queue: at most CONCURRENCY files at once, each with its own outcome. The list
 * of documents is refetched after each upload, and then polls while they index.
 */
export function useUploader() {
  const qc = useQueryClient();
  const [state, setState] = useState<QueueState>(emptyQueue);
  const current = useRef<QueueState>(emptyQueue);
  const pending = useRef(new Map<number, { file: File; fields: UploadFields }>());

  const apply = useCallback((action: QueueAction) => {
    current.current = queueReducer(current.current, action);
    setState(current.current);
  }, []);

  const add = useCallback(
    (files: readonly File[], fields: UploadFields, replaces: string | null = null) => {
      if (files.length === 0) return;
      const first = current.current.nextId;
      apply({ type: "add", files: files.map((f) => ({ name: f.name, size: f.size })), replaces });
      files.forEach((file, i) => pending.current.set(first + i, { file, fields }));
      pump({ current, pending, apply, refresh: () => void qc.invalidateQueries({ queryKey: keys.all }) });
    },
    [apply, qc],
  );

  const dismiss = useCallback((id: number) => apply({ type: "dismiss", id }), [apply]);
  const clearFinished = useCallback(() => apply({ type: "clearFinished" }), [apply]);
  return { state, add, dismiss, clearFinished };
}
