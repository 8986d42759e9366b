import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import type { components } from "../../api/client";
import { useCan } from "../../auth";
import type { MessageKey } from "../../i18n";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField, useToast } from "../../ui";
import { changeRows, EMPTY_FILTERS, filtersToQuery, formatValue, humanField, type AuditFilters } from "./logic";
import "./audit.css";

type Entry = components["schemas"]["AuditEntryOut"];
const ENTITY_TYPES = ["customer", "order", "product", "staff", "knowledge_document"] as const;
const ACTIONS = [
  "customer.create",
  "customer.update",
  "customer.merge",
  "customer.merge_undo",
  "customer.note_add",
  "order.create",
  "order.pay",
  "order.refund",
  "order.cancel",
  "product.create",
  "product.update",
  "staff.create",
  "staff.update",
  "staff.deactivate",
  "staff.reactivate",
  "staff.password_reset",
];
const ROLES = new Set(["admin", "manager", "marketer", "agent", "viewer"]);
const FILTER_KEYS = Object.keys(EMPTY_FILTERS) as (keyof AuditFilters)[];

const keys = {
  all: ["audit"] as const,
  list: (q: ReturnType<typeof filtersToQuery>) => ["audit", "list", q] as const,
};

/** Names of colleagues for the actor column and filter; the audit still works without it. */
function useDirectory() {
  return useQuery({
    queryKey: ["audit", "directory"],
    staleTime: 5 * 60_000,
    retry: false,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/staff/directory", { signal })),
  });
}

function entityLabel(t: (k: MessageKey) => string, type: string): string {
  return (ENTITY_TYPES as readonly string[]).includes(type) ? t(`audit.entity.${type}` as MessageKey) : type;
}

function FiltersForm({ value, onApply, actors }: { value: AuditFilters; onApply: (f: AuditFilters) => void; actors: { value: string; label: string }[] | null }) {
  const t = useT();
  const [draft, setDraft] = useState(value);
  const set = (k: keyof AuditFilters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  return (
    <form className="audit-filters" onSubmit={submit} aria-label={t("audit.filters")} data-testid="audit-filters">
      <Select
        label={t("audit.filter.entityType")}
        value={draft.entity_type}
        onChange={(e) => set("entity_type", e.target.value)}
        options={[{ value: "", label: t("audit.filter.entityType.all") }, ...ENTITY_TYPES.map((x) => ({ value: x, label: t(`audit.entity.${x}`) }))]}
      />
      <TextField label={t("audit.filter.entityId")} value={draft.entity_id} onChange={(e) => set("entity_id", e.target.value)} maxLength={100} />
      {actors ? (
        <Select
          label={t("audit.filter.actor")}
          value={draft.actor_id}
          onChange={(e) => set("actor_id", e.target.value)}
          options={[{ value: "", label: t("audit.filter.actor.all") }, ...actors]}
        />
      ) : (
        <TextField label={t("audit.filter.actorId")} value={draft.actor_id} onChange={(e) => set("actor_id", e.target.value)} />
      )}
      <TextField
        label={t("audit.filter.action")}
        value={draft.action}
        onChange={(e) => set("action", e.target.value)}
        placeholder={t("audit.filter.actionHint")}
        list="audit-actions"
        maxLength={100}
      />
      <datalist id="audit-actions">
        {ACTIONS.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <TextField label={t("audit.filter.since")} type="datetime-local" value={draft.since} onChange={(e) => set("since", e.target.value)} />
      <TextField label={t("audit.filter.until")} type="datetime-local" value={draft.until} onChange={(e) => set("until", e.target.value)} />
      <div className="audit-filters__actions">
        <Button type="submit">{t("audit.filter.apply")}</Button>
        <Button
          variant="ghost"
          onClick={() => {
            setDraft(EMPTY_FILTERS);
            onApply(EMPTY_FILTERS);
          }}
        >
          {t("audit.filter.clear")}
        </Button>
      </div>
    </form>
  );
}

function Changes({ entry }: { entry: Entry }) {
  const t = useT();
  const rows = changeRows(entry.changes);
  const words = { none: t("audit.none"), yes: t("audit.yes"), no: t("audit.no") };
  // Roles read as the app names them ("Marketer"); everything else as recorded (masked by the API).
  const show = (field: string, v: unknown) =>
    field === "role" && typeof v === "string" && ROLES.has(v) ? t(`role.${v}` as MessageKey) : formatValue(v, words);
  if (rows.length === 0) return <p className="audit-muted small">{t("audit.noChanges")}</p>;
  return (
    <table className="audit-changes" data-testid="audit-changes">
      <thead>
        <tr>
          <th scope="col">{t("audit.col.field")}</th>
          <th scope="col">{t("audit.col.before")}</th>
          <th scope="col">{t("audit.col.after")}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.field}>
            <th scope="row">{humanField(r.field)}</th>
            <td className="audit-before">{show(r.field, r.before)}</td>
            <td className="audit-after">{show(r.field, r.after)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function UndoMerge({ entry }: { entry: Entry }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const undo = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/audit/{entry_id}/undo", { params: { path: { entry_id: entry.id } } })),
    onSuccess: (out) => {
      toast({ message: t("audit.undoDone", { restored: out.restored.customer_id }), tone: "success" });
      setConfirming(false);
      void qc.invalidateQueries({ queryKey: keys.all });
      void qc.invalidateQueries({ queryKey: ["customers"] });
    },
    onError: (err) => {
      const msg = err instanceof ApiError && err.kind === "conflict" && err.detail ? err.detail : t(err instanceof ApiError ? err.messageKey : "error.unknown");
      toast({ message: msg, tone: "danger", duration: 10000 });
      setConfirming(false);
      void qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  if (!confirming) {
    return (
      <Button size="sm" variant="secondary" onClick={() => setConfirming(true)}>
        {t("audit.undo")}
      </Button>
    );
  }
  return (
    <div className="audit-confirm" role="alertdialog" aria-label={t("audit.undo")}>
      <p>{t("audit.undoConfirm")}</p>
      <Button size="sm" variant="danger" busy={undo.isPending} onClick={() => undo.mutate()}>
        {t("audit.undoConfirmButton")}
      </Button>
      <Button size="sm" variant="ghost" onClick={() => setConfirming(false)}>
        {t("audit.cancel")}
      </Button>
    </div>
  );
}

export default function AuditPage() {
  const t = useT();
  const f = useFormat();
  const canUndo = useCan("staff:admin"); // the undo is an admin's (POST /audit/{id}/undo: staff:admin)
  const [params, setParams] = useSearchParams();
  const filters: AuditFilters = { ...EMPTY_FILTERS };
  for (const k of FILTER_KEYS) filters[k] = params.get(k) ?? "";
  const query = filtersToQuery(filters);
  const directory = useDirectory();
  const names = new Map((directory.data?.items ?? []).map((c) => [c.id, c.name || c.email]));
  const actors = directory.data ? directory.data.items.map((c) => ({ value: c.id, label: c.name || c.email })) : null;

  const list = useInfiniteQuery({
    queryKey: keys.list(query),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/audit", { params: { query: { ...query, cursor: pageParam, limit: 50 } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
  const entries = list.data?.pages.flatMap((p) => p.items) ?? [];

  const apply = (next: AuditFilters) => {
    const p = new URLSearchParams();
    for (const k of FILTER_KEYS) if (next[k].trim()) p.set(k, next[k].trim());
    setParams(p, { replace: true });
  };

  return (
    <div className="audit" data-testid="audit">
      <PageHeader title={t("audit.title")} />
      <p className="audit-muted">{t("audit.intro")}</p>
      <FiltersForm key={params.toString()} value={filters} onApply={apply} actors={actors} />
      {list.isPending ? (
        <Spinner />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : entries.length === 0 ? (
        <EmptyState title={t("audit.empty")} />
      ) : (
        <ol className="audit-list" data-testid="audit-list">
          {entries.map((e) => {
            const who = e.actor_id ? (names.get(e.actor_id) ?? e.actor_id) : t("audit.system");
            return (
              <li key={e.id} className="audit-entry" data-testid="audit-entry" data-action={e.action} data-entity-id={e.entity_id}>
                <div className="audit-entry__head">
                  <span className="audit-entry__action">{e.action}</span>
                  <span>
                    {entityLabel(t, e.entity_type)} <code className="audit-entry__id">{e.entity_id}</code>
                    {e.entity_type === "staff" && names.has(e.entity_id) && <span> ({names.get(e.entity_id)})</span>}
                  </span>
                  <span className="audit-muted small">
                    {t("audit.by", { who })}
                    {e.actor_role && ` (${t(`role.${e.actor_role}` as MessageKey)})`} · <time dateTime={e.at}>{f.dateTime(e.at)}</time>
                  </span>
                  {e.undone_at && <Badge tone="neutral">{t("audit.undone", { when: f.dateTime(e.undone_at) })}</Badge>}
                </div>
                <Changes entry={e} />
                {e.undoable && canUndo && <UndoMerge entry={e} />}
              </li>
            );
          })}
        </ol>
      )}
      {list.hasNextPage && (
        <div className="audit-more">
          <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
            {t("audit.more")}
          </Button>
        </div>
      )}
    </div>
  );
}
