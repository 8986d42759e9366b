import { useState } from "react";
import { Link, useParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { errorMessageKey } from "../../api/errors";
import type { components } from "../../api/client";
import { useCan } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { useLiveEvent } from "../../live";
import { Badge, Button, ErrorState, PageHeader, Spinner, useToast } from "../../ui";
import { fetchFreshRecord, keys, newerRecord, useConversationByPsid, useCustomerRecord, useOverview } from "./api";
import { DuplicatesCard, PdpaCard } from "./Admin";
import { NotesCard, OrdersCard, TimelineCard } from "./Activity";
import { displayNameOf, etagOf, isStage, mergedInto, messengerPsid, pipelineSteps, type CustomerView, type Stage } from "./logic";
import { patchCustomer } from "./mutations";
import { Card, Facts, LeadBadge } from "./parts";
import { ProfileCard } from "./ProfileCard";

type Insights = components["schemas"]["Insights"];
type AdReferral = components["schemas"]["AdReferral"];

export function Customer360() {
  const { customerId = "" } = useParams();
  const t = useT();
  const qc = useQueryClient();
  const overview = useOverview(customerId);

  // Orders change on the "orders" topic, not "customers": refresh this customer's orders too.
  useLiveEvent((e) => {
    if (e.kind === "change" && e.topic === "orders") void qc.invalidateQueries({ queryKey: keys.orders(customerId) });
  });

  const back = (
    <Link className="back-link" to="/customers">
      ← {t("customers.back")}
    </Link>
  );
  if (overview.isPending)
    return (
      <div className="customers">
        {back}
        <div className="page-loading">
          <Spinner />
        </div>
      </div>
    );
  if (overview.isError) {
    const target = mergedInto(overview.error instanceof ApiError ? overview.error.detail : undefined, customerId);
    return (
      <div className="customers">
        {back}
        {target ? (
          <div className="state">
            <h2 className="state__title">{t("customers.state.mergedNotice")}</h2>
            <Link className="btn btn--primary" to={`/customers/${encodeURIComponent(target)}`}>
              {t("customers.openMerged", { id: target })}
            </Link>
          </div>
        ) : (
          <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />
        )}
      </div>
    );
  }

  const o = overview.data;
  const c = o.customer;
  const name = displayNameOf(c) ?? t("customers.noName");
  return (
    <div className="customers customer-360" data-testid="customer-360">
      {back}
      <PageHeader title={name} />
      <p className="c360-id" data-testid="customer-id">
        {c.customer_id}
      </p>
      <StagePipeline customer={c} />
      <div className="c360-grid">
        <div className="c360-col">
          <LeadCard customer={c} />
          <InsightsCard insights={o.insights ?? null} />
          <ProfileCard customerId={customerId} fromOverview={c} lifetimeValue={o.lifetime_value} />
          <AttributionCard customer={c} />
          <ConversationCard customer={c} insights={o.insights ?? null} />
        </div>
        <div className="c360-col">
          <NotesCard customerId={customerId} />
          <OrdersCard customerId={customerId} />
          <TimelineCard customerId={customerId} />
          <DuplicatesCard customerId={customerId} />
          <PdpaCard customerId={customerId} />
        </div>
      </div>
    </div>
  );
}

function StagePipeline({ customer }: { customer: CustomerView }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const canWrite = useCan("customer:write");
  const record = useCustomerRecord(customer.customer_id);
  const [busy, setBusy] = useState<Stage | null>(null);
  const current = customer.lifecycle_stage;

  async function move(stage: Stage) {
    setBusy(stage);
    const id = customer.customer_id;
    try {
      const mine = { customer, etag: etagOf(customer.version ?? 1) };
      const etag = (record.data ? newerRecord(record.data, mine) : mine).etag;
      try {
        await patchCustomer(id, etag, { lifecycle_stage: stage });
      } catch (err) {
        // Someone changed another field meanwhile: a stage move is one intent, apply it on the new version.
        if (!(err instanceof ApiError && err.status === 412)) throw err;
        const fresh = await fetchFreshRecord(id);
        await patchCustomer(id, fresh.etag, { lifecycle_stage: stage });
      }
      toast({ message: t("customers.pipeline.changed", { stage: t(`customers.stage.${stage}`) }), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.one(id) });
      void qc.invalidateQueries({ queryKey: ["customers", "list"] });
    } catch (err) {
      toast({ message: t(errorMessageKey(err)), tone: "danger" });
    } finally {
      setBusy(null);
    }
  }

  const steps = pipelineSteps(current);
  return (
    <nav className="pipeline" aria-label={t("customers.pipeline")} data-testid="stage-pipeline">
      <ol className="pipeline__steps">
        {steps.map(({ stage, state }) => {
          const label = t(`customers.stage.${stage}`);
          return (
            <li key={stage} className={`pipeline__step pipeline__step--${state}`} aria-current={state === "current" ? "step" : undefined}>
              {canWrite && state !== "current" ? (
                <button
                  type="button"
                  className="pipeline__button"
                  disabled={busy !== null}
                  aria-busy={busy === stage || undefined}
                  title={t("customers.pipeline.moveTo", { stage: label })}
                  onClick={() => void move(stage)}
                >
                  {label}
                </button>
              ) : (
                <span className="pipeline__label">{label}</span>
              )}
            </li>
          );
        })}
      </ol>
      {current === "lost" ? (
        <Badge tone="danger">{t("customers.stage.lost")}</Badge>
      ) : (
        !isStage(current) ? <Badge>{current}</Badge> : canWrite && (
          <Button variant="ghost" size="sm" disabled={busy !== null} busy={busy === "lost"} onClick={() => void move("lost")}>
            {t("customers.pipeline.markLost")}
          </Button>
        )
      )}
    </nav>
  );
}

function LeadCard({ customer }: { customer: CustomerView }) {
  const t = useT();
  const f = useFormat();
  const lead = customer.lead ?? null;
  return (
    <Card title={t("customers.lead.title")} testId="lead-card">
      {!lead ? (
        <p className="muted">{t("customers.lead.none")}</p>
      ) : (
        <>
          <div className="lead-head">
            <span className="lead-score" data-testid="lead-score">
              {lead.score}
            </span>
            <LeadBadge lead={lead} hideScore />
            <span className="muted">{t("customers.lead.scoredAt", { time: f.relative(lead.scored_at) })}</span>
          </div>
          {lead.reasons.length > 0 && (
            <ul className="lead-reasons">
              {lead.reasons.map((r) => (
                <li key={r.signal}>
                  <span>{r.label}</span>
                  <span className="lead-reasons__points">{t("customers.lead.points", { points: r.points > 0 ? `+${r.points}` : r.points })}</span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Card>
  );
}

function InsightsCard({ insights }: { insights: Insights | null }) {
  const t = useT();
  const f = useFormat();
  return (
    <Card title={t("customers.insights.title")} testId="insights-card">
      {!insights ? (
        <p className="muted">{t("customers.insights.none")}</p>
      ) : (
        <>
          <p className="insights-summary" data-testid="insights-summary">
            {insights.summary}
          </p>
          <Facts
            rows={(
              [
                [t("customers.insights.nextAction"), insights.next_best_action],
                [t("customers.insights.intent"), insights.intent],
                [t("customers.insights.schedule"), insights.preferred_schedule],
                [t("customers.insights.budget"), insights.budget],
                [t("customers.insights.objections"), (insights.objections ?? []).join(", ")],
                [t("customers.insights.language"), insights.language],
              ] as [string, string | null | undefined][]
            ).filter((r): r is [string, string] => !!r[1])}
          />
          <p className="muted small">
            {t(`customers.insights.source.${insights.source}`)} · {t("customers.insights.generated", { time: f.relative(insights.generated_at) })}
          </p>
        </>
      )}
    </Card>
  );
}

function Touch({ title, touch }: { title: string; touch: AdReferral }) {
  const t = useT();
  const f = useFormat();
  const rows: [string, string][] = (
    [
      [t("customers.attr.ad"), touch.ad_title],
      [t("customers.attr.adId"), touch.ad_id],
      [t("customers.attr.source"), touch.source],
      [t("customers.attr.ref"), touch.ref],
      [t("customers.attr.post"), touch.post_id],
      [t("customers.attr.at"), touch.referred_at ? f.dateTime(touch.referred_at) : null],
    ] as [string, string | null | undefined][]
  ).filter((r): r is [string, string] => !!r[1]);
  return (
    <div className="touch">
      <h3 className="touch__title">{title}</h3>
      <Facts rows={rows} />
    </div>
  );
}

function AttributionCard({ customer }: { customer: CustomerView }) {
  const t = useT();
  const first = customer.first_touch ?? null;
  const latest = customer.latest_touch ?? null;
  const sameTouch = first && latest && JSON.stringify(first) === JSON.stringify(latest);
  return (
    <Card title={t("customers.attr.title")} testId="attribution-card">
      {!first && !latest ? (
        <p className="muted">{t("customers.attr.none")}</p>
      ) : (
        <div className="touches">
          {first && <Touch title={t("customers.attr.first")} touch={first} />}
          {latest && !sameTouch && <Touch title={t("customers.attr.latest")} touch={latest} />}
        </div>
      )}
    </Card>
  );
}

function ConversationCard({ customer, insights }: { customer: CustomerView; insights: Insights | null }) {
  const t = useT();
  const canRead = useCan("conversation:read");
  const psid = messengerPsid(customer);
  const knownId = insights?.conversation_id ?? null;
  const lookup = useConversationByPsid(customer.customer_id, psid, canRead && knownId === null);
  if (!canRead) return null;
  const conversationId = knownId ?? lookup.data?.id ?? null;
  let body;
  if (!psid && !knownId) body = <p className="muted">{t("customers.conv.none")}</p>;
  else if (conversationId)
    body = (
      <Link className="btn btn--secondary btn--sm" to={`/inbox/${encodeURIComponent(conversationId)}`} data-testid="open-conversation">
        {t("customers.conv.open")}
      </Link>
    );
  else if (lookup.isPending) body = <Spinner size="sm" />;
  else if (lookup.isError) body = <p className="muted">{t(errorMessageKey(lookup.error))}</p>;
  else
    body = (
      <>
        <p className="muted">{t("customers.conv.notFound")}</p>
        <Link className="btn btn--ghost btn--sm" to="/inbox">
          {t("customers.conv.openInbox")}
        </Link>
      </>
    );
  return <Card title={t("customers.conv.title")}>{body}</Card>;
}
