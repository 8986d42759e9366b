import { useEffect, useState, type ReactNode } from "react";
import type { MessageKey } from "../../i18n";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, ErrorState, Spinner } from "../../ui";
import type { Freshness } from "./api";
import { freshAt } from "./logic";

/** Re-renders every `ms` so "2 min ago" keeps telling the truth. */
export function useNow(ms = 30_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = window.setInterval(() => setNow(new Date()), ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return now;
}


/** "updated 2 min ago", and a visible warning when the answer is stale. */
export function FreshnessNote({ data, fetchedAt, testId }: { data: Freshness; fetchedAt: number; testId?: string }) {
  const t = useT();
  const f = useFormat();
  const now = useNow();
  const at = freshAt(data, fetchedAt);
  const reasonKey: MessageKey = data.stale_reason
    ? `dashboards.fresh.stale.${data.stale_reason}`
    : "dashboards.fresh.stale.unknown";
  return (
    <div className="dash-fresh" data-testid={testId ?? "freshness"} data-stale={data.stale ? "true" : "false"}>
      <span className="dash-fresh__age" title={at ? f.dateTime(at) : undefined}>
        {at ? t("dashboards.fresh.updated", { when: f.relative(at, now) }) : t("dashboards.fresh.unknown")}
      </span>
      {data.stale && (
        <span className="dash-fresh__stale" role="status">
          <Badge tone="warning">{t("dashboards.fresh.stale")}</Badge> {t(reasonKey)}
        </span>
      )}
      {data.problems.length > 0 && (
        <span className="dash-fresh__problems">{t("dashboards.fresh.problems", { count: data.problems.length })}</span>
      )}
    </div>
  );
}

/** A titled card of the dashboard with its freshness, loading and error states. */
export function Section({
  title,
  testId,
  query,
  actions,
  children,
}: {
  title: string;
  testId: string;
  query: { data?: Freshness | undefined; dataUpdatedAt: number; isPending: boolean; isError: boolean; error: unknown; refetch: () => unknown; isFetching: boolean };
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="dash-card" data-testid={testId} aria-busy={query.isFetching || undefined}>
      <div className="dash-card__head">
        <h2 className="dash-card__title">{title}</h2>
        {actions}
      </div>
      {query.data && <FreshnessNote data={query.data} fetchedAt={query.dataUpdatedAt} testId={`${testId}-freshness`} />}
      {query.isPending ? (
        <div className="dash-loading">
          <Spinner />
        </div>
      ) : query.isError && !query.data ? (
        <ErrorState error={query.error} onRetry={() => void query.refetch()} />
      ) : (
        children
      )}
    </section>
  );
}
