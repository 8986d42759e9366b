/**
 * ECharts with only what the dashboards draw (lines, bars, axes, tooltip, legend on a canvas).
 * Imported with `import()` only (see DailyChart.tsx), so it is a lazy chunk of its own.
 */
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { echarts };
