import type { MessageKey } from "../../i18n";
import { useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import type { CampaignReconciliation, ReconciliationOut } from "./api";

type Diff = NonNullable<CampaignReconciliation["leads"]>;
const FIGURES = ["leads", "purchases", "purchase_value"] as const;
const KNOWN_CAUSES = new Set([
  "customers_meta_cannot_see",
  "no_ad_touch",
  "touch_outside_window",
  "conversions_without_customer",
  "timezone",
  "late_payments",
  "refunds",
]);

function isZero(s: string): boolean {
  return /^[+-]?0*(\.0*)?$/.test(s.trim());
}

export function causeLabel(t: (k: MessageKey) => string, cause: string): string {
  return KNOWN_CAUSES.has(cause) ? t(`dashboards.recon.cause.${cause}` as MessageKey) : cause.replace(/_/g, " ");
}

function DiffRow({ label, diff, money }: { label: string; diff: Diff; money: boolean }) {
  const t = useT();
  // Counts come as decimals too ("396.00"): shown as whole numbers when they are.
  const show = (v: string) => (money ? formatTHB(v) : v.replace(/^(-?\d+)\.0+$/, "$1"));
  const causes = Object.entries(diff.causes ?? {}).filter(([, v]) => !isZero(v));
  return (
    <tr>
      <td>{label}</td>
      <td className="num">{show(diff.meta)}</td>
      <td className="num">{show(diff.crm)}</td>
      <td className="num">{show(diff.difference)}</td>
      <td>
        {causes.length === 0 ? (
          t("dashboards.recon.noCauses")
        ) : (
          <ul className="recon-causes">
            {causes.map(([cause, value]) => (
              <li key={cause}>
                {causeLabel(t, cause)}: <span className="num">{show(value)}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className={`num${isZero(diff.unexplained) ? "" : " recon-unexplained"}`}>{show(diff.unexplained)}</td>
    </tr>
  );
}

function CampaignBlock({ c }: { c: CampaignReconciliation }) {
  const t = useT();
  const name = c.campaign_id === "none" ? t("dashboards.recon.none") : (c.campaign_name ?? c.campaign_id);
  return (
    <tbody className="recon-campaign" data-testid="recon-campaign">
      <tr className="recon-campaign__head">
        <th scope="rowgroup" colSpan={6}>
          {name}
          <span className="dash-muted small">
            {" "}
            · {t("dashboards.recon.conversations")}: {t("dashboards.recon.meta")} {c.meta_conversations_started} /{" "}
            {t("dashboards.recon.crm")} {c.conversations_started}
          </span>
        </th>
      </tr>
      {FIGURES.map((fig) => {
        const diff = c[fig];
        return diff ? (
          <DiffRow key={fig} label={t(`dashboards.recon.${fig}`)} diff={diff} money={fig === "purchase_value"} />
        ) : null;
      })}
    </tbody>
  );
}

/** Meta's figures beside the CRM's per campaign over the range, each difference with its causes. */
export function Reconciliation({ data }: { data: ReconciliationOut }) {
  const t = useT();
  if (data.totals.length === 0) return <p className="dash-muted">{t("dashboards.recon.empty")}</p>;
  return (
    <>
      <p className="dash-muted small">
        {t("dashboards.recon.intro", { setting: data.meta_attribution_setting, tz: data.account_timezone })}
      </p>
      <div className="table-scroll">
        <table className="dash-table recon-table" data-testid="recon-table">
          <thead>
            <tr>
              <th scope="col">{t("dashboards.recon.figure")}</th>
              <th scope="col" className="num">{t("dashboards.recon.meta")}</th>
              <th scope="col" className="num">{t("dashboards.recon.crm")}</th>
              <th scope="col" className="num">{t("dashboards.recon.difference")}</th>
              <th scope="col">{t("dashboards.recon.causes")}</th>
              <th scope="col" className="num">{t("dashboards.recon.unexplained")}</th>
            </tr>
          </thead>
          {data.totals.map((c) => (
            <CampaignBlock key={c.campaign_id} c={c} />
          ))}
          <CampaignBlock c={{ ...data.total, campaign_id: "all", campaign_name: t("dashboards.campaigns.total") }} />
        </table>
      </div>
    </>
  );
}
