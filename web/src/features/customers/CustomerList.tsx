import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField } from "../../ui";
import { useCustomerList, type ListQuery } from "./api";
import { createdRange, detectQueryKind, displayNameOf, parseTags, searchParamsFor, STAGES, isStage, type CustomerView } from "./logic";
import { LeadBadge } from "./parts";

const SORTS = ["-created_at", "created_at", "-updated_at", "updated_at", "-lead_score", "lead_score"] as const;
type Sort = (typeof SORTS)[number];
const TEMPS = ["hot", "warm", "cold"] as const;
const STATES = ["active", "merged", "erased"] as const;
const FILTER_NAMES = ["stage", "temperature", "tag", "assigned", "state", "min", "from", "to", "sort"] as const;

function oneOf<T extends string>(all: readonly T[], v: string | null): T | undefined {
  return v !== null && (all as readonly string[]).includes(v) ? (v as T) : undefined;
}

/** The list query from the URL (filters live in the URL, so back and reload keep them). */
function listQueryOf(params: URLSearchParams): ListQuery {
  const query: ListQuery = { limit: 50, ...searchParamsFor(params.get("q") ?? "") };
  const stage = params.get("stage");
  if (stage && isStage(stage)) query.stage = stage;
  const temperature = oneOf(TEMPS, params.get("temperature"));
  if (temperature) query.temperature = temperature;
  const tags = parseTags(params.get("tag") ?? "");
  if (tags.length) query.tag = tags;
  const assigned = params.get("assigned");
  if (assigned) query.assigned = assigned;
  const state = oneOf(STATES, params.get("state"));
  if (state) query.state = state;
  const min = params.get("min");
  if (min && /^\d{1,3}$/.test(min) && Number(min) <= 100) query.min_lead_score = Number(min);
  Object.assign(query, createdRange(params.get("from") ?? "", params.get("to") ?? ""));
  const sort = oneOf<Sort>(SORTS, params.get("sort"));
  if (sort) query.sort = sort;
  return query;
}

export function CustomerList() {
  const t = useT();
  const [params, setParams] = useSearchParams();
  const urlQ = params.get("q") ?? "";
  const [text, setText] = useState(urlQ);
  // What the box last wrote to the URL, and the URL's q last seen: a q the box did not write
  // (the menu link, back) replaces the box's text.
  const [written, setWritten] = useState(urlQ);
  const [seenQ, setSeenQ] = useState(urlQ);
  if (urlQ !== seenQ) {
    setSeenQ(urlQ);
    if (urlQ !== written) {
      setText(urlQ);
      setWritten(urlQ);
    }
  }

  // Search as you type: the box writes to the URL 250 ms after the last key.
  useEffect(() => {
    if (text === urlQ) return;
    const timer = setTimeout(() => {
      setWritten(text.trim() ? text : "");
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          if (text.trim()) next.set("q", text);
          else next.delete("q");
          return next;
        },
        { replace: true },
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [text, urlQ, setParams]);

  const query = useMemo(() => listQueryOf(params), [params]);
  const list = useCustomerList(query);
  const kind = detectQueryKind(text);

  const setFilter = (name: string, value: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(name, value);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  const hasFilters = FILTER_NAMES.some((n) => params.has(n));
  const clearFilters = () =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        FILTER_NAMES.forEach((n) => next.delete(n));
        return next;
      },
      { replace: true },
    );

  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const any = t("customers.filter.any");

  return (
    <div className="customers">
      <PageHeader title={t("customers.title")} />
      <div className="customers-search" role="search">
        <TextField
          label={t("customers.search")}
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          hint={kind === "empty" ? t("customers.searchHint") : t(`customers.searchAs.${kind}`)}
          autoComplete="off"
          spellCheck={false}
          data-testid="customer-search"
        />
      </div>
      <details className="customers-filters" open={hasFilters || undefined}>
        <summary>{t("customers.filters")}</summary>
        <div className="customers-filters__grid">
          <Select
            label={t("customers.filter.stage")}
            value={params.get("stage") ?? ""}
            onChange={(e) => setFilter("stage", e.target.value)}
            options={[{ value: "", label: any }, ...STAGES.map((s) => ({ value: s, label: t(`customers.stage.${s}`) }))]}
          />
          <Select
            label={t("customers.filter.temperature")}
            value={params.get("temperature") ?? ""}
            onChange={(e) => setFilter("temperature", e.target.value)}
            options={[{ value: "", label: any }, ...TEMPS.map((s) => ({ value: s, label: t(`customers.temp.${s}`) }))]}
          />
          <TextField
            label={t("customers.filter.tag")}
            hint={t("customers.filter.tagHint")}
            value={params.get("tag") ?? ""}
            onChange={(e) => setFilter("tag", e.target.value)}
          />
          <Select
            label={t("customers.filter.assigned")}
            value={params.get("assigned") ?? ""}
            onChange={(e) => setFilter("assigned", e.target.value)}
            options={[
              { value: "", label: any },
              { value: "me", label: t("customers.assigned.me") },
              { value: "unassigned", label: t("customers.assigned.unassigned") },
            ]}
          />
          <Select
            label={t("customers.filter.state")}
            value={params.get("state") ?? "active"}
            onChange={(e) => setFilter("state", e.target.value === "active" ? "" : e.target.value)}
            options={STATES.map((s) => ({ value: s, label: t(`customers.state.${s}`) }))}
          />
          <TextField
            label={t("customers.filter.minScore")}
            type="number"
            min={0}
            max={100}
            inputMode="numeric"
            value={params.get("min") ?? ""}
            onChange={(e) => setFilter("min", e.target.value)}
          />
          <TextField
            label={t("customers.filter.createdFrom")}
            type="date"
            value={params.get("from") ?? ""}
            onChange={(e) => setFilter("from", e.target.value)}
          />
          <TextField
            label={t("customers.filter.createdTo")}
            type="date"
            value={params.get("to") ?? ""}
            onChange={(e) => setFilter("to", e.target.value)}
          />
          <Select
            label={t("customers.filter.sort")}
            value={params.get("sort") ?? "-created_at"}
            onChange={(e) => setFilter("sort", e.target.value === "-created_at" ? "" : e.target.value)}
            options={SORTS.map((s) => ({ value: s, label: t(`customers.sort.${s}`) }))}
          />
        </div>
        {hasFilters && (
          <Button variant="ghost" size="sm" onClick={clearFilters}>
            {t("customers.filter.clear")}
          </Button>
        )}
      </details>

      {list.isPending ? (
        <div className="page-loading">
          <Spinner />
        </div>
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          title={t("customers.emptyTitle")}
          body={kind === "empty" && !hasFilters ? t("customers.emptyAllBody") : t("customers.emptyBody")}
        />
      ) : (
        <>
          <CustomerTable items={items} />
          {list.hasNextPage && (
            <div className="customers-more">
              <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
                {t("customers.loadMore")}
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}

function CustomerTable({ items }: { items: CustomerView[] }) {
  const t = useT();
  const f = useFormat();
  return (
    <table className="customer-table" data-testid="customer-list">
      <thead>
        <tr>
          <th scope="col">{t("customers.col.name")}</th>
          <th scope="col">{t("customers.col.id")}</th>
          <th scope="col">{t("customers.col.contact")}</th>
          <th scope="col">{t("customers.col.stage")}</th>
          <th scope="col">{t("customers.col.score")}</th>
          <th scope="col">{t("customers.col.created")}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.customer_id} className="customer-row">
            <td data-label={t("customers.col.name")} className="customer-row__name">
              <Link to={`/customers/${encodeURIComponent(c.customer_id)}`}>{displayNameOf(c) ?? t("customers.noName")}</Link>
            </td>
            <td data-label={t("customers.col.id")}>
              <span className="customer-row__id">{c.customer_id}</span>
            </td>
            <td data-label={t("customers.col.contact")}>
              {c.phone || c.email ? (
                <span className="customer-row__contact">
                  {c.phone && <span>{c.phone}</span>}
                  {c.email && <span>{c.email}</span>}
                </span>
              ) : (
                t("customers.empty")
              )}
            </td>
            <td data-label={t("customers.col.stage")}>
              <Badge>{isStage(c.lifecycle_stage) ? t(`customers.stage.${c.lifecycle_stage}`) : c.lifecycle_stage}</Badge>
            </td>
            <td data-label={t("customers.col.score")}>
              <LeadBadge lead={c.lead ?? null} />
            </td>
            <td data-label={t("customers.col.created")}>
              <time dateTime={c.created_at}>{f.date(c.created_at)}</time>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
