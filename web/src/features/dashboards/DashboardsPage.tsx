import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { useFormat } from "../../lib/useFormat";
import { Button, PageHeader, Select, TextField } from "../../ui";
import {
  useCampaigns,
  useDaily,
  useIntegrity,
  useProducts,
  useReconciliation,
  useSummary,
  type Attribution,
  type ProductKind,
  type PeriodOut,
} from "./api";
import { CampaignTable } from "./CampaignTable";
import { DailyChart } from "./DailyChart";
import { Integrity } from "./Integrity";
import { KpiCards } from "./KpiCards";
import { isDay, PRESETS, presetRange, previousRange, type DayRange, type Preset } from "./logic";
import { KindSelect, Products } from "./Products";
import { Reconciliation } from "./Reconciliation";
import { Section } from "./parts";
import "./dashboards.css";

const ATTRIBUTIONS: readonly Attribution[] = ["last_28d", "last_7d", "last_1d", "first"];

function isPreset(s: string | null): s is Preset {
  return s !== null && (PRESETS as readonly string[]).includes(s);
}

function rangePeriod(periods: PeriodOut[] | undefined): PeriodOut | undefined {
  return periods?.find((p) => p.name === "range") ?? periods?.[0];
}

/** The range and options live in the URL (?range=7d, or ?range=custom&since=…&until=…), so links share them. */
function useDashboardParams() {
  const [params, setParams] = useSearchParams();
  const since = params.get("since");
  const until = params.get("until");
  const rawPreset = params.get("range");
  const preset: Preset = isPreset(rawPreset) ? rawPreset : isDay(since) || isDay(until) ? "custom" : "7d";
  const range = presetRange(preset, new Date(), { since: since ?? undefined, until: until ?? undefined });
  const rawAttr = params.get("attribution");
  const attribution: Attribution = (ATTRIBUTIONS as readonly string[]).includes(rawAttr ?? "") ? (rawAttr as Attribution) : "last_28d";
  const rawKind = params.get("kind");
  const kind = (["course", "package", "equipment", "menu_item"].includes(rawKind ?? "") ? rawKind : null) as ProductKind | null;
  const update = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };
  return { preset, range, attribution, kind, update };
}

function RangePicker({
  preset,
  range,
  onPreset,
  onCustom,
}: {
  preset: Preset;
  range: DayRange;
  onPreset: (p: Preset) => void;
  onCustom: (r: DayRange) => void;
}) {
  const t = useT();
  const [from, setFrom] = useState(range.since);
  const [to, setTo] = useState(range.until);
  const [error, setError] = useState<string | undefined>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!isDay(from) || !isDay(to) || from > to) {
      setError(t("dashboards.range.invalid"));
      return;
    }
    setError(undefined);
    onCustom({ since: from, until: to });
  };
  return (
    <div className="range-picker" data-testid="range-picker">
      <div className="range-picker__presets" role="group" aria-label={t("dashboards.range")}>
        {PRESETS.map((p) => (
          <Button
            key={p}
            size="sm"
            variant={p === preset ? "primary" : "secondary"}
            aria-pressed={p === preset}
            onClick={() => {
              if (p === "custom") {
                setFrom(range.since);
                setTo(range.until);
              }
              onPreset(p);
            }}
          >
            {t(`dashboards.range.${p}`)}
          </Button>
        ))}
      </div>
      {preset === "custom" && (
        <form className="range-picker__custom" onSubmit={submit} noValidate>
          <TextField label={t("dashboards.range.from")} type="date" value={from} onChange={(e) => setFrom(e.target.value)} error={error} />
          <TextField label={t("dashboards.range.to")} type="date" value={to} onChange={(e) => setTo(e.target.value)} />
          <Button type="submit" size="sm">
            {t("dashboards.range.apply")}
          </Button>
        </form>
      )}
    </div>
  );
}

export default function DashboardsPage() {
  const t = useT();
  const f = useFormat();
  const { preset, range, attribution, kind, update } = useDashboardParams();
  const previous = previousRange(range, preset);

  const summary = useSummary(range, attribution);
  const before = useSummary(previous, attribution);
  const daily = useDaily(range, attribution);
  const campaigns = useCampaigns(range, attribution);
  const products = useProducts(range, kind);
  const recon = useReconciliation(range);
  const integrity = useIntegrity();

  const day = (d: string) => f.date(`${d}T12:00:00+07:00`);
  const current = rangePeriod(summary.data?.periods);
  const prior = rangePeriod(before.data?.periods);

  return (
    <div className="dashboards" data-testid="dashboards">
      <PageHeader
        title={t("dashboards.title")}
        actions={
          <Select
            label={t("dashboards.attribution")}
            value={attribution}
            onChange={(e) => update({ attribution: e.target.value === "last_28d" ? null : e.target.value })}
            options={ATTRIBUTIONS.map((a) => ({ value: a, label: t(`dashboards.attribution.${a}`) }))}
          />
        }
      />
      <RangePicker
        key={`${range.since}/${range.until}`}
        preset={preset}
        range={range}
        onPreset={(p) =>
          update(p === "custom" ? { range: "custom", since: range.since, until: range.until } : { range: p, since: null, until: null })
        }
        onCustom={(r) => update({ range: "custom", since: r.since, until: r.until })}
      />
      <p className="range-line" data-testid="range-line">
        <strong>{t("dashboards.range.showing", { since: day(range.since), until: day(range.until) })}</strong>{" "}
        <span className="dash-muted">
          {t("dashboards.range.previous", { since: day(previous.since), until: day(previous.until) })}
        </span>
      </p>

      <Section title={t("dashboards.kpis.title")} testId="summary" query={summary}>
        {current && (
          <>
            <KpiCards current={current} previous={prior} />
            {current.spend_hourly !== current.spend && (
              <p className="dash-muted small">
                {t("dashboards.kpi.hourlySpend", {
                  amount: formatTHB(current.spend_hourly),
                  difference: formatTHB(current.spend_hourly_difference),
                })}
              </p>
            )}
          </>
        )}
      </Section>

      <Section title={t("dashboards.chart.title")} testId="daily" query={daily}>
        {daily.data && <DailyChart points={daily.data.points} />}
      </Section>

      <Section title={t("dashboards.campaigns.title")} testId="campaigns" query={campaigns}>
        {campaigns.data && <CampaignTable data={campaigns.data} />}
      </Section>

      <Section
        title={t("dashboards.products.title")}
        testId="products"
        query={products}
        actions={<KindSelect value={kind} onChange={(k) => update({ kind: k })} />}
      >
        {products.data && <Products data={products.data} />}
      </Section>

      <Section title={t("dashboards.recon.title")} testId="reconciliation" query={recon}>
        {recon.data && <Reconciliation data={recon.data} />}
      </Section>

      <Section title={t("dashboards.integrity.title")} testId="integrity" query={integrity}>
        {integrity.data && <Integrity data={integrity.data} />}
      </Section>
    </div>
  );
}
