import { useT } from "../../i18n";
import type { Kpis, PeriodOut } from "./api";
import { CARD_KPIS, formatKpi } from "./kpis";
import { formatChange, percentChange, toneOfChange } from "./logic";

/** One card per KPI: this period's figure, and its change since the period before. */
export function KpiCards({ current, previous }: { current: PeriodOut; previous: PeriodOut | undefined }) {
  const t = useT();
  return (
    <ul className="kpi-grid" data-testid="kpi-cards">
      {CARD_KPIS.map((def) => {
        const now = current.kpis[def.key] as Kpis[typeof def.key] | undefined;
        const before = previous ? (previous.kpis[def.key] as Kpis[typeof def.key] | undefined) : undefined;
        const pct = percentChange(now ?? null, before ?? null);
        const tone = toneOfChange(pct, def.direction);
        const shown = formatKpi(def, now);
        const beforeShown = formatKpi(def, before);
        return (
          <li key={def.key} className="kpi" data-testid={`kpi-${def.key}`}>
            <span className="kpi__label">{t(`dashboards.kpi.${def.key}`)}</span>
            <span className="kpi__value" data-testid={`kpi-${def.key}-value`}>
              {shown ?? t("dashboards.kpi.none")}
            </span>
            <span className={`kpi__change kpi__change--${tone}`} data-testid={`kpi-${def.key}-change`}>
              {pct === null ? t("dashboards.kpi.noComparison") : formatChange(pct)}
            </span>
            {beforeShown !== null && (
              <span className="kpi__previous">{t("dashboards.kpi.previous", { value: beforeShown })}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
