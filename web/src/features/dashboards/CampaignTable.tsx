import { Fragment, useState } from "react";
import { useT } from "../../i18n";
import type { AdOut, AdSetOut, CampaignOut, CampaignsOut, Kpis } from "./api";
import { TABLE_KPIS, formatKpi, type KpiKey } from "./kpis";
import { byValue } from "./logic";

type SortKey = KpiKey | "name";
interface Sort {
  key: SortKey;
  dir: "asc" | "desc";
}

interface Node {
  kpis: Kpis;
}

function sorted<T extends Node>(rows: readonly T[], name: (row: T) => string, sort: Sort): T[] {
  const get = (row: T) => (sort.key === "name" ? name(row) : (row.kpis[sort.key] ?? null));
  return [...rows].sort(byValue(get, sort.dir));
}

function KpiCells({ kpis }: { kpis: Kpis }) {
  const t = useT();
  return (
    <>
      {TABLE_KPIS.map((def) => (
        <td key={def.key} className="num" data-label={t(`dashboards.kpi.${def.key}`)}>
          {formatKpi(def, kpis[def.key]) ?? t("dashboards.kpi.none")}
        </td>
      ))}
    </>
  );
}

/** Campaign → ad set → ad with every KPI; rows expand, every column sorts (exactly, on decimals). */
export function CampaignTable({ data }: { data: CampaignsOut }) {
  const t = useT();
  const [sort, setSort] = useState<Sort>({ key: "spend", dir: "desc" });
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());

  const unknown = t("dashboards.campaigns.unknown");
  const campaignName = (c: CampaignOut) => (c.campaign_id === "unknown" ? unknown : (c.campaign_name ?? c.campaign_id));
  const adsetName = (s: AdSetOut) => (s.adset_id === "unknown" ? unknown : (s.adset_name ?? s.adset_id));
  const adName = (a: AdOut) => a.ad_name ?? a.ad_id;

  const campaigns = sorted(data.campaigns, campaignName, sort);

  const toggle = (id: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const header = (key: SortKey, label: string) => {
    const active = sort.key === key;
    return (
      <th
        key={key}
        scope="col"
        className={key === "name" ? "" : "num"}
        aria-sort={active ? (sort.dir === "asc" ? "ascending" : "descending") : "none"}
      >
        <button
          type="button"
          className="sort-button"
          title={t("dashboards.campaigns.sortBy", { column: label })}
          onClick={() =>
            setSort((s) => ({ key, dir: s.key === key ? (s.dir === "asc" ? "desc" : "asc") : key === "name" ? "asc" : "desc" }))
          }
        >
          {label}
          <span aria-hidden="true" className="sort-button__mark">
            {active ? (sort.dir === "asc" ? "▲" : "▼") : ""}
          </span>
        </button>
      </th>
    );
  };

  if (data.campaigns.length === 0 && data.total.kpis.paid_orders === 0) {
    return <p className="dash-muted">{t("dashboards.campaigns.empty")}</p>;
  }

  return (
    <div className="table-scroll">
      <table className="dash-table campaign-table" data-testid="campaign-table">
        <thead>
          <tr>
            {header("name", t("dashboards.campaigns.name"))}
            {TABLE_KPIS.map((def) => header(def.key, t(`dashboards.kpi.${def.key}`)))}
          </tr>
        </thead>
        <tbody>
          {campaigns.map((c) => {
            const cKey = `c:${c.campaign_id}`;
            const cOpen = open.has(cKey);
            const name = campaignName(c);
            return (
              <Fragment key={cKey}>
                <tr className="row-campaign" data-testid="campaign-row" data-campaign-id={c.campaign_id}>
                  <th scope="row" className="name-cell">
                    <button
                      type="button"
                      className="expander"
                      aria-expanded={cOpen}
                      aria-label={t(cOpen ? "dashboards.campaigns.collapse" : "dashboards.campaigns.expand", { name })}
                      onClick={() => toggle(cKey)}
                    >
                      {cOpen ? "▾" : "▸"}
                    </button>
                    <span className="name-cell__text">{name}</span>
                  </th>
                  <KpiCells kpis={c.kpis} />
                </tr>
                {cOpen &&
                  sorted(c.adsets, adsetName, sort).map((s) => {
                    const sKey = `${cKey}/s:${s.adset_id}`;
                    const sOpen = open.has(sKey);
                    const sName = adsetName(s);
                    return (
                      <Fragment key={sKey}>
                        <tr className="row-adset" data-testid="adset-row">
                          <th scope="row" className="name-cell name-cell--adset">
                            <button
                              type="button"
                              className="expander"
                              aria-expanded={sOpen}
                              aria-label={t(sOpen ? "dashboards.campaigns.collapseAds" : "dashboards.campaigns.expandAds", {
                                name: sName,
                              })}
                              onClick={() => toggle(sKey)}
                            >
                              {sOpen ? "▾" : "▸"}
                            </button>
                            <span className="name-cell__text">{sName}</span>
                          </th>
                          <KpiCells kpis={s.kpis} />
                        </tr>
                        {sOpen &&
                          sorted(s.ads, adName, sort).map((a) => (
                            <tr key={`${sKey}/a:${a.ad_id}`} className="row-ad" data-testid="ad-row">
                              <th scope="row" className="name-cell name-cell--ad">
                                <span className="name-cell__text">{adName(a)}</span>
                                {a.status && <span className="dash-muted small"> · {a.status}</span>}
                              </th>
                              <KpiCells kpis={a.kpis} />
                            </tr>
                          ))}
                      </Fragment>
                    );
                  })}
              </Fragment>
            );
          })}
        </tbody>
        <tfoot>
          <tr className="row-unattributed">
            <th scope="row">{t("dashboards.campaigns.unattributed")}</th>
            <KpiCells kpis={data.unattributed.kpis} />
          </tr>
          <tr className="row-total" data-testid="campaign-total">
            <th scope="row">{t("dashboards.campaigns.total")}</th>
            <KpiCells kpis={data.total.kpis} />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}
