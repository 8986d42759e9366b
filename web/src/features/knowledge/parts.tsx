import { useT, type MessageKey } from "../../i18n";
import { Badge, type BadgeTone } from "../../ui";
import type { Doc } from "./api";

const TONE: Record<Doc["status"], BadgeTone> = { queued: "neutral", indexing: "info", ready: "success", failed: "danger" };

export function languageKey(lang: string | null | undefined): MessageKey {
  return lang === "th" || lang === "en" || lang === "ja" ? `knowledge.lang.${lang}` : "knowledge.lang.unknown";
}

/** The status, a progress bar while indexing, and a failure in words. */
export function DocStatus({ doc }: { doc: Pick<Doc, "status" | "chunks_done" | "chunks_total" | "failure_reason" | "title"> }) {
  const t = useT();
  return (
    <div className="kb-status" data-testid="doc-status" data-status={doc.status}>
      <Badge tone={TONE[doc.status]}>{t(`knowledge.status.${doc.status}`)}</Badge>
      {(doc.status === "queued" || doc.status === "indexing") && (
        <div className="kb-progress">
          {doc.chunks_total > 0 ? (
            <progress
              max={doc.chunks_total}
              value={doc.chunks_done}
              aria-label={t("knowledge.progressLabel", { title: doc.title })}
            />
          ) : (
            <progress aria-label={t("knowledge.progressLabel", { title: doc.title })} />
          )}
          {doc.chunks_total > 0 && (
            <span className="kb-muted kb-small">
              {t("knowledge.progress", { done: doc.chunks_done, total: doc.chunks_total })}
            </span>
          )}
        </div>
      )}
      {doc.status === "failed" && (
        <p className="kb-failure">
          {doc.failure_reason ? t("knowledge.failed", { reason: doc.failure_reason }) : t("knowledge.failedUnknown")}
        </p>
      )}
    </div>
  );
}
