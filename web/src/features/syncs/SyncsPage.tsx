import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import type { components } from "../../api/client";
import { Can } from "../../auth";
import type { MessageKey } from "../../i18n";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField, useToast, type BadgeTone } from "../../ui";
import {
  adviceFor,
  defaultBackfill,
  isActive,
  pollInterval,
  progressPercent,
  seemsStuck,
  validateBackfill,
  type BackfillErrors,
  type BackfillForm,
  type Granularity,
  type RunStatus,
} from "./logic";
import "./syncs.css";

type SyncRun = components["schemas"]["SyncRun"];
type Kind = SyncRun["kind"];

const STATUSES: readonly RunStatus[] = ["queued", "running", "succeeded", "failed", "stopped"];
const TONE: Record<RunStatus, BadgeTone> = {
  queued: "neutral",
  running: "info",
  succeeded: "success",
  failed: "danger",
  stopped: "warning",
};

export const keys = {
  all: ["syncs"] as const,
  list: (status: RunStatus | null) => ["syncs", "list", status] as const,
  one: (id: number) => ["syncs", "one", id] as const,
};

function StatusBadge({ status }: { status: RunStatus }) {
  const t = useT();
  return <Badge tone={TONE[status]}>{t(`syncs.status.${status}`)}</Badge>;
}

function Progress({ run }: { run: SyncRun }) {
  const t = useT();
  const pct = progressPercent(run.jobs_done, run.jobs_total);
  const label = run.jobs_total > 0 ? t("syncs.detail.jobsOf", { done: run.jobs_done, total: run.jobs_total }) : t("syncs.detail.jobsUnknown");
  return (
    <div className="sync-progress">
      {pct === null ? (
        isActive(run.status) ? <progress aria-label={label} /> : null
      ) : (
        <progress max={100} value={pct} aria-label={label} />
      )}
      <span className="sync-progress__text">{label}</span>
    </div>
  );
}

function useRunList(status: RunStatus | null) {
  return useInfiniteQuery({
    queryKey: keys.list(status),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      unwrap(api.GET("/api/v1/marketing/syncs", { params: { query: { status, cursor: pageParam, limit: 50 } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
    refetchInterval: (q) => pollInterval((q.state.data?.pages ?? []).flatMap((p) => p.items.map((r) => r.status))),
  });
}

function RunDetail({ id, onClose }: { id: number; onClose: () => void }) {
  const t = useT();
  const f = useFormat();
  const run = useQuery({
    queryKey: keys.one(id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/marketing/syncs/{run_id}", { params: { path: { run_id: id } }, signal })),
    refetchInterval: (q) => (q.state.data && !isActive(q.state.data.status) ? false : 2000),
  });
  const when = (v: string | null | undefined) => (v ? f.dateTime(v) : t("syncs.detail.notYet"));
  return (
    <section className="sync-card sync-detail" data-testid="sync-detail" aria-labelledby="sync-detail-title">
      <div className="sync-card__head">
        <h2 id="sync-detail-title" className="sync-card__title">
          {t("syncs.detail.title", { id })}
        </h2>
        <Button variant="ghost" size="sm" onClick={onClose}>
          {t("syncs.detail.close")}
        </Button>
      </div>
      {run.isPending ? (
        <Spinner />
      ) : run.isError ? (
        <ErrorState error={run.error} onRetry={() => void run.refetch()} />
      ) : (
        <>
          <p className="sync-detail__status">
            <StatusBadge status={run.data.status} /> {t(`syncs.kind.${run.data.kind}`)} ·{" "}
            {f.date(`${run.data.since}T12:00:00+07:00`)} – {f.date(`${run.data.until}T12:00:00+07:00`)}
          </p>
          <Progress run={run.data} />
          {seemsStuck(run.data, new Date(run.dataUpdatedAt)) && (
            <p className="sync-stuck" role="status">
              {t("syncs.detail.stuck", { when: f.relative(run.data.heartbeat_at ?? run.data.started_at ?? run.data.created_at) })}
            </p>
          )}
          <dl className="sync-facts">
            <div>
              <dt>{t("syncs.detail.account")}</dt>
              <dd>{run.data.account_id}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.granularities")}</dt>
              <dd>{run.data.granularities.map((g) => t(`syncs.granularity.${g}`)).join(", ")}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.rowsFetched")}</dt>
              <dd data-testid="sync-rows-fetched">{run.data.rows_fetched.toLocaleString("en-US")}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.rowsChanged")}</dt>
              <dd data-testid="sync-rows-changed">{run.data.rows_changed.toLocaleString("en-US")}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.apiCalls")}</dt>
              <dd data-testid="sync-api-calls">{run.data.api_calls.toLocaleString("en-US")}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.retries")}</dt>
              <dd>{run.data.retries}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.throttle")}</dt>
              <dd>{t("syncs.detail.throttleValue", { times: run.data.throttle_waits, seconds: run.data.throttle_wait_seconds })}</dd>
            </div>
            <div>
              <dt>{t("syncs.col.requestedBy")}</dt>
              <dd>{run.data.slot ? t("syncs.schedule") : run.data.requested_by}</dd>
            </div>
            <div>
              <dt>{t("syncs.col.created")}</dt>
              <dd>{f.dateTime(run.data.created_at)}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.started")}</dt>
              <dd>{when(run.data.started_at)}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.heartbeat")}</dt>
              <dd>{run.data.heartbeat_at ? f.relative(run.data.heartbeat_at) : t("syncs.detail.notYet")}</dd>
            </div>
            <div>
              <dt>{t("syncs.detail.finished")}</dt>
              <dd>{when(run.data.finished_at)}</dd>
            </div>
          </dl>
          <RunError run={run.data} />
        </>
      )}
    </section>
  );
}

function RunError({ run }: { run: SyncRun }) {
  const t = useT();
  const advice = adviceFor(run.error_code, run.error);
  if (!advice && !run.error) return null;
  return (
    <div className="sync-error" role="alert" data-testid="sync-error">
      <h3 className="sync-error__title">{t("syncs.detail.error")}</h3>
      {advice && <p className="sync-error__advice">{t(`syncs.advice.${advice}` as MessageKey)}</p>}
      {run.error_code != null && <p className="small">{t("syncs.detail.errorCode", { code: run.error_code })}</p>}
      {run.error && <p className="small muted">{t("syncs.detail.serverSays", { error: run.error })}</p>}
    </div>
  );
}

function useStartSync(onQueued: (runs: SyncRun[]) => void) {
  const qc = useQueryClient();
  const toast = useToast();
  const t = useT();
  return useMutation({
    mutationFn: (body: components["schemas"]["SyncRequestIn"]) => unwrap(api.POST("/api/v1/marketing/syncs", { body })),
    onSuccess: (out) => {
      toast({ message: t("syncs.start.queued", { ids: out.items.map((r) => r.id).join(", ") }), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
      onQueued(out.items);
    },
    onError: (err) => {
      const conflict = err instanceof ApiError && err.kind === "conflict";
      toast({
        message: conflict ? t("syncs.start.conflict") : t(err instanceof ApiError ? err.messageKey : "error.unknown"),
        tone: "danger",
      });
    },
  });
}

function StartPanel({ onQueued }: { onQueued: (runs: SyncRun[]) => void }) {
  const t = useT();
  const start = useStartSync(onQueued);
  const [form, setForm] = useState<BackfillForm>(() => defaultBackfill());
  const [account, setAccount] = useState("");
  const [errors, setErrors] = useState<BackfillErrors>({});
  const [lastKind, setLastKind] = useState<Kind | null>(null);
  const err = (k: keyof BackfillErrors) => (errors[k] ? t(`syncs.form.error.${errors[k]}` as MessageKey) : undefined);
  const serverErrors =
    start.error instanceof ApiError && start.error.kind === "validation" && lastKind === "backfill" ? start.error.detail : undefined;

  const toggle = (g: Granularity) =>
    setForm((f) => ({
      ...f,
      granularities: f.granularities.includes(g) ? f.granularities.filter((x) => x !== g) : [...f.granularities, g],
    }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = validateBackfill(form);
    setErrors(found);
    if (Object.keys(found).length) return;
    setLastKind("backfill");
    start.mutate({
      kind: "backfill",
      since: form.since,
      until: form.until,
      granularities: form.granularities,
      account_id: account.trim() || null,
    });
  };

  return (
    <section className="sync-card" data-testid="sync-start">
      <h2 className="sync-card__title">{t("syncs.start.title")}</h2>
      <div className="sync-start__quick">
        <Button
          variant="secondary"
          busy={start.isPending && lastKind === "hourly"}
          onClick={() => {
            setLastKind("hourly");
            start.mutate({ kind: "hourly" });
          }}
        >
          {t("syncs.start.hourly")}
        </Button>
        <Button
          variant="secondary"
          busy={start.isPending && lastKind === "daily"}
          onClick={() => {
            setLastKind("daily");
            start.mutate({ kind: "daily" });
          }}
        >
          {t("syncs.start.daily")}
        </Button>
      </div>
      <form className="backfill-form" onSubmit={submit} noValidate data-testid="backfill-form">
        <h3 className="sync-card__subtitle">{t("syncs.form.title")}</h3>
        <p className="small muted">{t("syncs.form.hint")}</p>
        <div className="backfill-form__row">
          <TextField
            label={t("syncs.form.since")}
            type="date"
            value={form.since}
            onChange={(e) => setForm({ ...form, since: e.target.value })}
            error={err("since")}
            required
          />
          <TextField
            label={t("syncs.form.until")}
            type="date"
            value={form.until}
            onChange={(e) => setForm({ ...form, until: e.target.value })}
            error={err("until")}
            required
          />
          <TextField
            label={t("syncs.form.account")}
            hint={t("syncs.form.accountHint")}
            value={account}
            onChange={(e) => setAccount(e.target.value)}
            inputMode="numeric"
          />
        </div>
        <fieldset className="backfill-form__grans" aria-invalid={errors.granularities ? true : undefined}>
          <legend>{t("syncs.form.granularities")}</legend>
          {(["day", "hour"] as const).map((g) => (
            <label key={g} className="check">
              <input type="checkbox" checked={form.granularities.includes(g)} onChange={() => toggle(g)} />{" "}
              {t(`syncs.granularity.${g}`)}
            </label>
          ))}
          {errors.granularities && <p className="field__error">{err("granularities")}</p>}
        </fieldset>
        {serverErrors && <p className="field__error">{serverErrors}</p>}
        <Button type="submit" busy={start.isPending && lastKind === "backfill"}>
          {t("syncs.form.submit")}
        </Button>
      </form>
    </section>
  );
}

export default function SyncsPage() {
  const t = useT();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const rawStatus = params.get("status");
  const status = (STATUSES as readonly string[]).includes(rawStatus ?? "") ? (rawStatus as RunStatus) : null;
  const runParam = Number(params.get("run"));
  const selected = Number.isInteger(runParam) && runParam > 0 ? runParam : null;
  const list = useRunList(status);
  const runs = list.data?.pages.flatMap((p) => p.items) ?? [];

  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  return (
    <div className="syncs" data-testid="syncs">
      <PageHeader title={t("syncs.title")} />
      <p className="muted">{t("syncs.intro")}</p>
      {selected !== null && <RunDetail key={selected} id={selected} onClose={() => set({ run: null })} />}
      <section className="sync-card">
        <div className="sync-card__head">
          <h2 className="sync-card__title">{t("syncs.list.title")}</h2>
          <Select
            label={t("syncs.list.filter")}
            hideLabel
            value={status ?? ""}
            onChange={(e) => set({ status: e.target.value || null })}
            options={[
              { value: "", label: t("syncs.list.filter.all") },
              ...STATUSES.map((s) => ({ value: s, label: t(`syncs.status.${s}`) })),
            ]}
          />
        </div>
        {list.isPending ? (
          <Spinner />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : runs.length === 0 ? (
          <EmptyState title={t("syncs.list.empty")} />
        ) : (
          <div className="table-scroll">
            <table className="sync-table" data-testid="sync-runs">
              <thead>
                <tr>
                  <th scope="col">{t("syncs.col.id")}</th>
                  <th scope="col">{t("syncs.col.status")}</th>
                  <th scope="col">{t("syncs.col.kind")}</th>
                  <th scope="col">{t("syncs.col.range")}</th>
                  <th scope="col">{t("syncs.col.progress")}</th>
                  <th scope="col" className="num">{t("syncs.col.rows")}</th>
                  <th scope="col">{t("syncs.col.requestedBy")}</th>
                  <th scope="col">{t("syncs.col.created")}</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} data-testid="sync-run" data-run-id={r.id} data-status={r.status} className={r.id === selected ? "is-selected" : undefined}>
                    <td>
                      <button type="button" className="link-button" aria-label={t("syncs.open", { id: r.id })} onClick={() => set({ run: String(r.id) })}>
                        #{r.id}
                      </button>
                    </td>
                    <td>
                      <StatusBadge status={r.status} />
                      {adviceFor(r.error_code, r.error) && <span className="sync-table__warn" aria-hidden="true"> ⚠</span>}
                    </td>
                    <td>{t(`syncs.kind.${r.kind}`)}</td>
                    <td className="nowrap">
                      {r.since === r.until ? r.since : `${r.since} – ${r.until}`}
                    </td>
                    <td>
                      <Progress run={r} />
                    </td>
                    <td className="num" data-testid="sync-run-rows">
                      {r.rows_fetched.toLocaleString("en-US")} / {r.rows_changed.toLocaleString("en-US")}
                    </td>
                    <td>{r.slot ? t("syncs.schedule") : r.requested_by}</td>
                    <td className="nowrap">{f.dateTime(r.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {list.hasNextPage && (
          <div className="sync-more">
            <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
              {t("syncs.list.more")}
            </Button>
          </div>
        )}
      </section>
      <Can permission="marketing:sync">
        <StartPanel onQueued={(queued) => queued[0] && set({ run: String(queued[0].id) })} />
      </Can>
    </div>
  );
}
