import { Link } from "react-router";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, ErrorState, Spinner } from "../../ui";
import { useCustomerByPsid } from "./api";
import { adOf, customerViewName } from "./logic";

const STAGES = ["lead", "contacted", "qualified", "enrolled", "alumni", "lost"] as const;
type Stage = (typeof STAGES)[number];
const isStage = (s: string): s is Stage => (STAGES as readonly string[]).includes(s);
const TEMP_TONE = { hot: "danger", warm: "warning", cold: "info" } as const;

/** Who the customer is in the CRM and which ad started the chat (found by the PSID). */
export function CustomerPanel({ psid, enabled }: { psid: string; enabled: boolean }) {
  const t = useT();
  const f = useFormat();
  const q = useCustomerByPsid(psid, enabled);
  if (!enabled) return null;
  return (
    <section className="inbox-customer" aria-labelledby="inbox-customer-title" data-testid="customer-panel">
      <h3 id="inbox-customer-title" className="inbox-customer__title">
        {t("inbox.customer.title")}
      </h3>
      {q.isPending ? (
        <Spinner size="sm" />
      ) : q.isError ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      ) : !q.data ? (
        <p className="inbox-muted">{t("inbox.customer.none")}</p>
      ) : (
        (() => {
          const c = q.data;
          const ad = adOf(c);
          return (
            <>
              <p className="inbox-customer__name">
                <Link to={`/customers/${encodeURIComponent(c.customer_id)}`} aria-label={t("inbox.customer.open", { id: c.customer_id })}>
                  {customerViewName(c) ?? c.customer_id}
                </Link>
              </p>
              <p className="inbox-muted inbox-mono">{c.customer_id}</p>
              <dl className="inbox-facts">
                {c.lead && (
                  <div>
                    <dt>{t("inbox.customer.lead")}</dt>
                    <dd data-testid="inbox-lead">
                      <strong>{c.lead.score}</strong>{" "}
                      <Badge tone={TEMP_TONE[c.lead.temperature]}>{t(`inbox.customer.temperature.${c.lead.temperature}`)}</Badge>
                    </dd>
                  </div>
                )}
                <div>
                  <dt>{t("inbox.customer.stage")}</dt>
                  <dd>{isStage(c.lifecycle_stage) ? t(`inbox.stage.${c.lifecycle_stage}`) : c.lifecycle_stage}</dd>
                </div>
                <div>
                  <dt>{t("inbox.customer.firstTouch")}</dt>
                  <dd data-testid="inbox-first-touch">
                    {ad ? (
                      <>
                        {ad.ad_title && <span className="inbox-block">{ad.ad_title}</span>}
                        {ad.ad_id && <span className="inbox-block">{t("inbox.customer.ad", { id: ad.ad_id })}</span>}
                        {(ad.source || ad.ref) && (
                          <span className="inbox-block inbox-muted">{[ad.source, ad.ref].filter(Boolean).join(" · ")}</span>
                        )}
                        {ad.referred_at && (
                          <span className="inbox-block inbox-muted">
                            {t("inbox.customer.referredAt")} {f.dateTime(ad.referred_at)}
                          </span>
                        )}
                      </>
                    ) : (
                      <span className="inbox-muted">{t("inbox.customer.noAd")}</span>
                    )}
                  </dd>
                </div>
              </dl>
            </>
          );
        })()
      )}
    </section>
  );
}
