import { useEffect, useRef, useState } from "react";
import { useI18n } from "../../i18n";
import { formatDate, formatTHB } from "../../lib/format";
import type { DailyOut } from "./api";
import { plotNumber } from "./logic";

type Point = DailyOut["points"][number];

/**
 * Spend and revenue (lines, THB) with leads and paid orders (bars) per Bangkok day. ECharts is
 * loaded here with `import()` (its own chunk), never on the first screen. Money is turned into
 * numbers only to plot it; the tooltip shows the API's exact amounts.
 */
export function DailyChart({ points }: { points: Point[] }) {
  const { t, lang } = useI18n();
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ready" | "failed">("loading");

  useEffect(() => {
    let disposed = false;
    let dispose: (() => void) | undefined;
    import("./echartsSetup")
      .then(({ echarts }) => {
        if (disposed || !host.current) return;
        const chart = echarts.init(host.current, undefined, { renderer: "canvas" });
        const days = points.map((p) => formatDate(`${p.day}T12:00:00+07:00`, lang));
        const names = {
          spend: t("dashboards.kpi.spend"),
          revenue: t("dashboards.kpi.revenue"),
          leads: t("dashboards.kpi.leads"),
          paid: t("dashboards.kpi.paid_orders"),
        };
        chart.setOption({
          animation: false,
          grid: { left: 64, right: 40, top: 40, bottom: 32 },
          legend: { top: 0 },
          tooltip: {
            trigger: "axis",
            formatter: (params: unknown) => {
              const list = Array.isArray(params) ? (params as { dataIndex: number }[]) : [];
              const p = list.length ? points[list[0]!.dataIndex] : undefined;
              if (!p) return "";
              const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
              return [
                esc(formatDate(`${p.day}T12:00:00+07:00`, lang)),
                `${esc(names.spend)}: ${formatTHB(p.spend)}`,
                `${esc(names.revenue)}: ${formatTHB(p.revenue)}`,
                `${esc(names.leads)}: ${p.leads}`,
                `${esc(names.paid)}: ${p.paid_orders}`,
              ].join("<br/>");
            },
          },
          xAxis: { type: "category", data: days },
          yAxis: [
            { type: "value", name: "฿", axisLabel: { formatter: (v: number) => v.toLocaleString("en-US") } },
            { type: "value", minInterval: 1, splitLine: { show: false } },
          ],
          series: [
            { name: names.spend, type: "line", data: points.map((p) => plotNumber(p.spend)), yAxisIndex: 0 },
            { name: names.revenue, type: "line", data: points.map((p) => plotNumber(p.revenue)), yAxisIndex: 0 },
            { name: names.leads, type: "bar", data: points.map((p) => p.leads), yAxisIndex: 1 },
            { name: names.paid, type: "bar", data: points.map((p) => p.paid_orders), yAxisIndex: 1 },
          ],
        });
        const observer = new ResizeObserver(() => chart.resize());
        observer.observe(host.current);
        dispose = () => {
          observer.disconnect();
          chart.dispose();
        };
        setState("ready");
      })
      .catch(() => {
        if (!disposed) setState("failed");
      });
    return () => {
      disposed = true;
      dispose?.();
    };
  }, [points, lang, t]);

  if (points.length === 0) return <p className="dash-muted">{t("dashboards.chart.empty")}</p>;
  return (
    <div className="dash-chart-wrap">
      {state === "loading" && <p className="dash-muted">{t("dashboards.chart.loading")}</p>}
      {state === "failed" && (
        <p className="dash-muted" role="alert">
          {t("dashboards.chart.failed")}
        </p>
      )}
      <div
        ref={host}
        className="dash-chart"
        data-testid="daily-chart"
        role="img"
        aria-label={`${t("dashboards.chart.money")}; ${t("dashboards.chart.counts")}`}
      />
    </div>
  );
}
