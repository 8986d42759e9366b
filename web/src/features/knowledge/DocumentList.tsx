import { useRef, useState, type DragEvent } from "react";
import { Link } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, useToast } from "../../ui";
import { deleteDocument, keys, reindexAll, reindexDocument, useDocuments, type Doc, type Language } from "./api";
import { DocStatus, languageKey } from "./parts";
import { TryQuestion } from "./TryQuestion";
import { useUploader } from "./useUploader";
import { formatBytes, isActive, isSettled, type UploadItem } from "./uploadQueue";

const ACCEPT = ".md,.markdown,.txt,.html,.htm,.pdf,.json,text/markdown,text/plain,text/html,application/pdf,application/json";

/** Documents with their indexing state; upload, replace, reindex, delete; try a question. */
export function DocumentList() {
  const t = useT();
  const docs = useDocuments();
  const uploader = useUploader();
  const [language, setLanguage] = useState<Language | "">("");
  const [confirmAll, setConfirmAll] = useState(false);
  const toast = useToast();
  const qc = useQueryClient();
  const all = useMutation({
    mutationFn: reindexAll,
    onSuccess: (r) => {
      setConfirmAll(false);
      toast({ message: t("knowledge.reindexAllDone", { n: r.queued }), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  const polling = docs.data?.some((d) => !isSettled(d)) ?? false;

  return (
    <div className="kb">
      <PageHeader
        title={t("page.knowledge")}
        actions={
          docs.data && docs.data.length > 0 ? (
            <Button variant="secondary" onClick={() => setConfirmAll(true)} aria-expanded={confirmAll}>
              {t("knowledge.reindexAll")}
            </Button>
          ) : undefined
        }
      />
      <p className="kb-muted">{t("knowledge.intro")}</p>
      {confirmAll && (
        <div className="kb-confirm" role="alertdialog" aria-label={t("knowledge.reindexAll")}>
          <p>{t("knowledge.reindexAllConfirm")}</p>
          <div className="kb-actions">
            <Button busy={all.isPending} onClick={() => all.mutate()}>
              {t("knowledge.reindexAllYes")}
            </Button>
            <Button variant="ghost" onClick={() => setConfirmAll(false)}>
              {t("knowledge.cancel")}
            </Button>
          </div>
          {all.isError && <ErrorState error={all.error} />}
        </div>
      )}

      <section className="kb-card">
        <h2 className="kb-card__title">{t("knowledge.upload.title")}</h2>
        <DropZone onFiles={(files) => uploader.add(files, { language })} />
        <Select
          className="kb-language"
          label={t("knowledge.upload.language")}
          value={language}
          onChange={(e) => setLanguage(e.target.value as Language | "")}
          options={[
            { value: "", label: t("knowledge.upload.languageAuto") },
            { value: "th", label: t("knowledge.lang.th") },
            { value: "en", label: t("knowledge.lang.en") },
            { value: "ja", label: t("knowledge.lang.ja") },
          ]}
        />
        {uploader.state.items.length > 0 && (
          <div>
            <div className="kb-queue-head">
              <h3 className="kb-card__subtitle">{t("knowledge.upload.queue")}</h3>
              <Button variant="ghost" size="sm" onClick={uploader.clearFinished}>
                {t("knowledge.upload.clear")}
              </Button>
            </div>
            <ul className="kb-queue" aria-live="polite">
              {uploader.state.items.map((item) => (
                <UploadRow key={item.id} item={item} doc={docs.data?.find((d) => d.id === item.documentId)} onDismiss={uploader.dismiss} />
              ))}
            </ul>
          </div>
        )}
      </section>

      <TryQuestion />

      <section className="kb-card">
        <h2 className="kb-card__title">{t("knowledge.list.title")}</h2>
        {polling && (
          <p className="kb-muted kb-small" role="status">
            {t("knowledge.list.polling")}
          </p>
        )}
        {docs.isPending ? (
          <Spinner />
        ) : docs.isError ? (
          <ErrorState error={docs.error} onRetry={() => void docs.refetch()} />
        ) : docs.data.length === 0 ? (
          <EmptyState title={t("knowledge.list.empty")} body={t("knowledge.list.emptyBody")} />
        ) : (
          <table className="kb-table" data-testid="doc-table">
            <thead>
              <tr>
                <th scope="col">{t("knowledge.col.title")}</th>
                <th scope="col">{t("knowledge.col.language")}</th>
                <th scope="col" className="kb-num">
                  {t("knowledge.col.size")}
                </th>
                <th scope="col">{t("knowledge.col.version")}</th>
                <th scope="col">{t("knowledge.col.status")}</th>
                <th scope="col">{t("knowledge.col.indexed")}</th>
                <th scope="col">{t("knowledge.col.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {docs.data.map((d) => (
                <DocRow key={d.id} doc={d} onReplace={(file) => uploader.add([file], { language: "" }, d.id)} />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function DropZone({ onFiles }: { onFiles: (files: File[]) => void }) {
  const t = useT();
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    onFiles(Array.from(e.dataTransfer.files));
  };
  return (
    <div
      className={`kb-drop${over ? " kb-drop--over" : ""}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <p className="kb-drop__title">{t("knowledge.upload.drop")}</p>
      <p className="kb-muted">{t("knowledge.upload.or")}</p>
      <Button variant="secondary" onClick={() => input.current?.click()}>
        {t("knowledge.upload.choose")}
      </Button>
      <input
        ref={input}
        className="visually-hidden"
        type="file"
        multiple
        accept={ACCEPT}
        aria-label={t("knowledge.upload.choose")}
        data-testid="file-input"
        tabIndex={-1}
        onChange={(e) => {
          onFiles(Array.from(e.target.files ?? []));
          e.target.value = "";
        }}
      />
      <p className="kb-muted kb-small">{t("knowledge.upload.types")}</p>
    </div>
  );
}

function UploadRow({ item, doc, onDismiss }: { item: UploadItem; doc: Doc | undefined; onDismiss: (id: number) => void }) {
  const t = useT();
  let outcome: string;
  if (item.status === "waiting") outcome = t("knowledge.upload.waiting");
  else if (item.status === "uploading") outcome = t("knowledge.upload.uploading");
  else if (item.status === "created") outcome = t(item.replaces ? "knowledge.upload.replaced" : "knowledge.upload.created");
  else if (item.status === "unchanged") outcome = t("knowledge.upload.unchanged");
  else outcome = t(`knowledge.upload.problem.${item.problem ?? "server"}`);
  return (
    <li className={`kb-queue__item kb-queue__item--${item.status}`} data-testid="upload-item" data-status={item.status}>
      <div className="kb-queue__main">
        <span className="kb-strong">{item.fileName}</span> <span className="kb-muted kb-small">{formatBytes(item.size)}</span>
        <div className={item.status === "failed" ? "kb-failure" : "kb-small"}>
          {item.status === "uploading" && <Spinner size="sm" decorative />} {outcome}
        </div>
        {item.detail && <div className="kb-muted kb-small">{item.detail}</div>}
        {item.status === "uploading" && <progress aria-label={t("knowledge.upload.uploading")} />}
      </div>
      {doc && (
        <div className="kb-queue__doc">
          <DocStatus doc={doc} />
        </div>
      )}
      {!isActive(item) && (
        <Button variant="ghost" size="sm" onClick={() => onDismiss(item.id)}>
          {t("knowledge.upload.dismiss")}
        </Button>
      )}
    </li>
  );
}

function DocRow({ doc, onReplace }: { doc: Doc; onReplace: (file: File) => void }) {
  const t = useT();
  const f = useFormat();
  const toast = useToast();
  const qc = useQueryClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const reindex = useMutation({
    mutationFn: () => reindexDocument(doc.id),
    onSuccess: () => {
      toast({ message: t("knowledge.reindexed"), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteDocument(doc.id),
    onSuccess: () => {
      toast({ message: t("knowledge.deleted"), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  return (
    <tr data-testid="doc-row" data-doc-id={doc.id}>
      <td data-label={t("knowledge.col.title")}>
        <Link to={`/knowledge/${doc.id}`} className="kb-strong">
          {doc.title}
        </Link>
        <div className="kb-muted kb-small">{doc.source_name}</div>
      </td>
      <td data-label={t("knowledge.col.language")}>{t(languageKey(doc.language))}</td>
      <td data-label={t("knowledge.col.size")} className="kb-num">
        {formatBytes(doc.size_bytes)}
      </td>
      <td data-label={t("knowledge.col.version")}>
        <Badge>{t("knowledge.version", { n: doc.version })}</Badge>
      </td>
      <td data-label={t("knowledge.col.status")}>
        <DocStatus doc={doc} />
      </td>
      <td data-label={t("knowledge.col.indexed")}>
        {doc.indexed_at ? <time dateTime={doc.indexed_at}>{f.dateTime(doc.indexed_at)}</time> : t("knowledge.notIndexed")}
      </td>
      <td data-label={t("knowledge.col.actions")}>
        {confirmDelete ? (
          <div className="kb-confirm" role="alertdialog" aria-label={t("knowledge.delete")}>
            <p>{t("knowledge.deleteConfirm", { title: doc.title })}</p>
            <div className="kb-actions">
              <Button variant="danger" size="sm" busy={remove.isPending} onClick={() => remove.mutate()}>
                {t("knowledge.deleteYes")}
              </Button>
              <Button variant="ghost" size="sm" onClick={() => setConfirmDelete(false)}>
                {t("knowledge.cancel")}
              </Button>
            </div>
            {remove.isError && <ErrorState error={remove.error} />}
          </div>
        ) : (
          <div className="kb-actions">
            <Button variant="secondary" size="sm" onClick={() => input.current?.click()} aria-label={t("knowledge.replaceLabel", { title: doc.title })}>
              {t("knowledge.replace")}
            </Button>
            <input
              ref={input}
              className="visually-hidden"
              type="file"
              accept={ACCEPT}
              tabIndex={-1}
              aria-hidden="true"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) onReplace(file);
                e.target.value = "";
              }}
            />
            <Button variant="secondary" size="sm" busy={reindex.isPending} onClick={() => reindex.mutate()}>
              {t("knowledge.reindex")}
            </Button>
            <Button variant="ghost" size="sm" onClick={() => setConfirmDelete(true)}>
              {t("knowledge.delete")}
            </Button>
          </div>
        )}
        {reindex.isError && <ErrorState error={reindex.error} />}
      </td>
    </tr>
  );
}
