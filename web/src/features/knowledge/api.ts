/**
 * The knowledge base's reads and writes. Keys start with "knowledge". Indexing publishes no live
 * events: the list polls every second while a document is queued or indexing (see pollInterval).
 */
import { useQuery } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../api/client";
import type { components } from "../../api/client";
import { isSettled, pollInterval } from "./uploadQueue";

export type Doc = components["schemas"]["DocumentOut"];
export type DocDetail = components["schemas"]["DocumentDetailOut"];
export type Passage = components["schemas"]["PassageOut"];
export type Language = "th" | "en" | "ja";

export const keys = {
  all: ["knowledge"] as const,
  list: ["knowledge", "documents"] as const,
  one: (id: string) => ["knowledge", "document", id] as const,
};

export function useDocuments() {
  return useQuery({
    queryKey: keys.list,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/knowledge/documents", { signal })),
    refetchInterval: (q) => pollInterval(q.state.data),
  });
}

export function useDocument(id: string) {
  return useQuery({
    queryKey: keys.one(id),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/knowledge/documents/{document_id}", { params: { path: { document_id: id } }, signal })),
    refetchInterval: (q) => (q.state.data && !isSettled(q.state.data) ? 1000 : false),
  });
}

export interface UploadFields {
  language?: Language | "";
  title?: string;
}

function form(file: File, fields: UploadFields): FormData {
  const data = new FormData();
  data.append("file", file, file.name);
  if (fields.language) data.append("language", fields.language);
  if (fields.title?.trim()) data.append("title", fields.title.trim());
  return data;
}

export interface UploadResult {
  doc: Doc;
  /** False when these bytes were a document already (200). */
  created: boolean;
}

/** POST a new document (or PUT a new version of `replaces`), as multipart/form-data. */
export async function uploadDocument(file: File, fields: UploadFields, replaces: string | null): Promise<UploadResult> {
  const body = form(file, fields);
  // The typed body is the form's fields; the serializer sends the real FormData (the browser sets the boundary).
  const typed = { file: file.name };
  let result;
  try {
    result = replaces
      ? await api.PUT("/api/v1/knowledge/documents/{document_id}", {
          params: { path: { document_id: replaces } },
          body: typed,
          bodySerializer: () => body,
        })
      : await api.POST("/api/v1/knowledge/documents", { body: typed, bodySerializer: () => body });
  } catch (err) {
    throw ApiError.from(err);
  }
  const doc = await unwrap(Promise.resolve(result));
  return { doc, created: replaces !== null || result.response.status === 201 };
}

export function deleteDocument(id: string) {
  return unwrap(api.DELETE("/api/v1/knowledge/documents/{document_id}", { params: { path: { document_id: id } } }));
}

export function reindexDocument(id: string) {
  return unwrap(api.POST("/api/v1/knowledge/documents/{document_id}/reindex", { params: { path: { document_id: id } } }));
}

export function reindexAll() {
  return unwrap(api.POST("/api/v1/knowledge/reindex", {}));
}

export function searchKnowledge(question: string, limit = 5) {
  return unwrap(api.POST("/api/v1/knowledge/search", { body: { question, limit } }));
}
