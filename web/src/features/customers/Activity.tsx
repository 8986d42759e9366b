import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { errorMessageKey } from "../../api/errors";
import { Can } from "../../auth";
import { useT, type MessageKey } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, ErrorState, Spinner, useToast, type BadgeTone } from "../../ui";
import { keys, useNotes, useOrders, useTimeline } from "./api";
import { detailPairs } from "./logic";
import { addNote } from "./mutations";
import { Card } from "./parts";

export function NotesCard({ customerId }: { customerId: string }) {
  const t = useT();
  const f = useFormat();
  const toast = useToast();
  const qc = useQueryClient();
  const notes = useNotes(customerId);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await addNote(customerId, text.trim());
      setText("");
      toast({ message: t("customers.notes.added"), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.one(customerId) });
    } catch (err) {
      setError(t(errorMessageKey(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t("customers.notes.title")} testId="notes-card">
      <Can permission="customer:write">
        <form className="note-form" onSubmit={(e) => void submit(e)}>
          <label className="field__label" htmlFor="customer-note">
            {t("customers.notes.label")}
          </label>
          <textarea
            id="customer-note"
            className="field__input note-form__text"
            rows={3}
            maxLength={10000}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          {error && (
            <p className="field__error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <Button type="submit" size="sm" busy={busy} disabled={!text.trim()}>
              {t("customers.notes.add")}
            </Button>
          </div>
        </form>
      </Can>
      {notes.isPending ? (
        <Spinner />
      ) : notes.isError ? (
        <ErrorState error={notes.error} onRetry={() => void notes.refetch()} />
      ) : notes.data.length === 0 ? (
        <p className="muted">{t("customers.notes.none")}</p>
      ) : (
        <ul className="notes">
          {notes.data.map((n) => (
            <li key={n.id} className="note">
              <p className="note__body">{n.body}</p>
              <time className="muted small" dateTime={n.created_at}>
                {f.dateTime(n.created_at)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

const ORDER_TONE: Record<string, BadgeTone> = { pending: "warning", paid: "success", refunded: "info", cancelled: "neutral" };
const ORDER_STATUSES = ["pending", "paid", "refunded", "cancelled"] as const;

export function OrdersCard({ customerId }: { customerId: string }) {
  const t = useT();
  const f = useFormat();
  const orders = useOrders(customerId);
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card title={t("customers.orders.title")} testId="orders-card">
      {orders.isPending ? (
        <Spinner />
      ) : orders.isError ? (
        <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">{t("customers.orders.none")}</p>
      ) : (
        <>
          <ul className="orders">
            {items.map((o) => (
              <li key={o.id} className="order">
                <div className="order__head">
                  <Badge tone={ORDER_TONE[o.status] ?? "neutral"}>
                    {(ORDER_STATUSES as readonly string[]).includes(o.status) ? t(`customers.orders.status.${o.status}`) : o.status}
                  </Badge>
                  <time className="muted small" dateTime={o.created_at}>
                    {f.dateTime(o.created_at)}
                  </time>
                </div>
                <dl className="order__money">
                  <div>
                    <dt>{t("customers.orders.total")}</dt>
                    <dd>{f.thb(o.total)}</dd>
                  </div>
                  <div>
                    <dt>{t("customers.orders.paid")}</dt>
                    <dd>{f.thb(o.paid)}</dd>
                  </div>
                  <div>
                    <dt>{t("customers.orders.due")}</dt>
                    <dd>{f.thb(o.due)}</dd>
                  </div>
                </dl>
                <Link className="order__link" to={`/catalog/orders/${encodeURIComponent(o.id)}`}>
                  {t("customers.orders.open")}
                </Link>
              </li>
            ))}
          </ul>
          {orders.hasNextPage && (
            <Button variant="secondary" size="sm" busy={orders.isFetchingNextPage} onClick={() => void orders.fetchNextPage()}>
              {t("customers.loadMore")}
            </Button>
          )}
        </>
      )}
    </Card>
  );
}

const TIMELINE_KINDS = [
  "customer_created",
  "stage_changed",
  "note_added",
  "order_created",
  "order_status_changed",
  "payment_recorded",
  "conversation_started",
  "ad_touch",
  "merged",
  "merge_undone",
  "ai_insight",
  "lead_scored",
] as const;

function timelineLabel(t: (k: MessageKey, p?: Record<string, string>) => string, kind: string): string {
  return (TIMELINE_KINDS as readonly string[]).includes(kind)
    ? t(`customers.timeline.${kind as (typeof TIMELINE_KINDS)[number]}`)
    : t("customers.timeline.other", { kind });
}

export function TimelineCard({ customerId }: { customerId: string }) {
  const t = useT();
  const f = useFormat();
  const timeline = useTimeline(customerId);
  const items = timeline.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card title={t("customers.timeline.title")} testId="timeline-card">
      {timeline.isPending ? (
        <Spinner />
      ) : timeline.isError ? (
        <ErrorState error={timeline.error} onRetry={() => void timeline.refetch()} />
      ) : items.length === 0 ? (
        <p className="muted">{t("customers.timeline.none")}</p>
      ) : (
        <>
          <ol className="timeline">
            {items.map((e, i) => {
              const pairs = detailPairs(e.detail);
              return (
                <li key={`${e.occurred_at}-${e.kind}-${i}`} className="timeline__item">
                  <div className="timeline__head">
                    <span className="timeline__kind">{timelineLabel(t, e.kind)}</span>
                    <time className="muted small" dateTime={e.occurred_at}>
                      {f.dateTime(e.occurred_at)}
                    </time>
                  </div>
                  {pairs.length > 0 && (
                    <p className="timeline__detail small">
                      {pairs.map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`).join(" · ")}
                    </p>
                  )}
                </li>
              );
            })}
          </ol>
          {timeline.hasNextPage && (
            <Button variant="secondary" size="sm" busy={timeline.isFetchingNextPage} onClick={() => void timeline.fetchNextPage()}>
              {t("customers.loadMore")}
            </Button>
          )}
        </>
      )}
    </Card>
  );
}
