import { Link, useParams } from "react-router";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { ErrorState, PageHeader, Spinner } from "../../ui";
import { useDocument } from "./api";
import { DocStatus, languageKey } from "./parts";
import { formatBytes } from "./uploadQueue";

/** One document and its passages, in order (polls while it indexes). */
export function DocumentDetail() {
  const { documentId = "" } = useParams();
  const t = useT();
  const f = useFormat();
  const doc = useDocument(documentId);
  if (doc.isPending) return <Spinner />;
  if (doc.isError) return <ErrorState error={doc.error} onRetry={() => void doc.refetch()} />;
  const d = doc.data;
  return (
    <div className="kb" data-testid="doc-page">
      <Link className="kb-back" to="/knowledge">
        ← {t("knowledge.back")}
      </Link>
      <PageHeader title={d.title} />
      <section className="kb-card">
        <DocStatus doc={d} />
        <dl className="kb-facts">
          <div>
            <dt>{t("knowledge.col.source")}</dt>
            <dd>{d.source_name}</dd>
          </div>
          <div>
            <dt>{t("knowledge.col.language")}</dt>
            <dd>{t(languageKey(d.language))}</dd>
          </div>
          <div>
            <dt>{t("knowledge.doc.mediaType")}</dt>
            <dd>{d.media_type}</dd>
          </div>
          <div>
            <dt>{t("knowledge.col.size")}</dt>
            <dd>{formatBytes(d.size_bytes)}</dd>
          </div>
          <div>
            <dt>{t("knowledge.col.version")}</dt>
            <dd>{t("knowledge.version", { n: d.version })}</dd>
          </div>
          <div>
            <dt>{t("knowledge.col.indexed")}</dt>
            <dd>{d.indexed_at ? f.dateTime(d.indexed_at) : t("knowledge.notIndexed")}</dd>
          </div>
          <div>
            <dt>{t("knowledge.doc.updated")}</dt>
            <dd>{f.dateTime(d.updated_at)}</dd>
          </div>
          {d.embedder && (
            <div>
              <dt>{t("knowledge.doc.embedder")}</dt>
              <dd className="kb-mono">{d.embedder}</dd>
            </div>
          )}
        </dl>
      </section>
      <section className="kb-card">
        <h2 className="kb-card__title">{t("knowledge.doc.chunks", { n: d.chunks.length })}</h2>
        {d.chunks.length === 0 ? (
          <p className="kb-muted">{t("knowledge.doc.noChunks")}</p>
        ) : (
          <ol className="kb-chunks" data-testid="doc-chunks">
            {d.chunks.map((c) => (
              <li key={c.id} className="kb-chunk">
                <div className="kb-muted kb-small">
                  {t("knowledge.doc.passage", { n: c.ordinal + 1 })}
                  {c.heading_path.length > 0 && ` · ${c.heading_path.join(" › ")}`}
                </div>
                <p className="kb-chunk__text">{c.text}</p>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
