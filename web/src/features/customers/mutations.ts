import { api, ApiError, unwrap } from "../../api/client";
import { etagOf, versionOfEtag, type CustomerPatch, type CustomerSnapshot } from "./logic";

/** PATCH with If-Match; returns the new snapshot and its ETag (throws ApiError: 412, 422, …). */
export async function patchCustomer(
  id: string,
  etag: string,
  body: CustomerPatch,
): Promise<{ customer: CustomerSnapshot; etag: string }> {
  let result;
  try {
    result = await api.PATCH("/api/v1/customers/{customer_id}", {
      params: { path: { customer_id: id }, header: { "if-match": etag } },
      body,
    });
  } catch (err) {
    throw ApiError.from(err);
  }
  const customer = await unwrap(Promise.resolve(result));
  const version = Math.max(versionOfEtag(result.response.headers.get("ETag")) ?? 0, customer.version ?? 1);
  return { customer, etag: etagOf(version) };
}

export function addNote(id: string, body: string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/notes", { params: { path: { customer_id: id } }, body: { body } }));
}

export function mergeInto(id: string, mergedId: string) {
  return unwrap(
    api.POST("/api/v1/customers/{customer_id}/merge", { params: { path: { customer_id: id } }, body: { merged_id: mergedId } }),
  );
}

export function requestErasure(id: string) {
  return unwrap(api.POST("/api/v1/customers/{customer_id}/erasure", { params: { path: { customer_id: id } } }));
}

/** The PDPA export as a JSON file download named after the customer id. */
export async function downloadExport(id: string, fileName: string): Promise<void> {
  const data = await unwrap(api.GET("/api/v1/customers/{customer_id}/export", { params: { path: { customer_id: id } } }));
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
