import { useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { Select } from "../../ui";
import type { ProductKind, ProductsOut } from "./api";
import { formatCount, formatRate } from "./logic";

export const KINDS: readonly ProductKind[] = ["course", "package", "equipment", "menu_item"];

export function KindSelect({ value, onChange }: { value: ProductKind | null; onChange: (k: ProductKind | null) => void }) {
  const t = useT();
  return (
    <Select
      label={t("dashboards.products.kind")}
      hideLabel
      value={value ?? ""}
      onChange={(e) => onChange((e.target.value || null) as ProductKind | null)}
      options={[
        { value: "", label: t("dashboards.products.kind.all") },
        ...KINDS.map((k) => ({ value: k, label: t(`dashboards.products.kind.${k}`) })),
      ]}
    />
  );
}

/** Revenue by course and product; `unknown` (orders whose lines are not known) is always shown. */
export function Products({ data }: { data: ProductsOut }) {
  const t = useT();
  const none = t("dashboards.kpi.none");
  if (data.products.length === 0) return <p className="dash-muted">{t("dashboards.products.empty")}</p>;
  return (
    <>
      <p className="dash-total" data-testid="products-total">
        {t("dashboards.products.total", { amount: formatTHB(data.total_revenue) })}
      </p>
      <div className="table-scroll">
        <table className="dash-table" data-testid="products-table">
          <thead>
            <tr>
              <th scope="col">{t("dashboards.products.name")}</th>
              <th scope="col">{t("dashboards.products.kind")}</th>
              <th scope="col" className="num">{t("dashboards.products.revenue")}</th>
              <th scope="col" className="num">{t("dashboards.products.refunds")}</th>
              <th scope="col" className="num">{t("dashboards.products.paidOrders")}</th>
              <th scope="col" className="num">{t("dashboards.products.units")}</th>
              <th scope="col" className="num">{t("dashboards.products.share")}</th>
              <th scope="col" className="num">{t("dashboards.products.aov")}</th>
            </tr>
          </thead>
          <tbody>
            {data.products.map((p) => (
              <tr key={p.product_id}>
                <th scope="row">
                  {p.product_id === "unknown" ? t("dashboards.products.unknown") : (p.name ?? p.product_id)}
                </th>
                <td>{p.kind ? t(`dashboards.products.kind.${p.kind}`) : none}</td>
                <td className="num">{formatTHB(p.revenue)}</td>
                <td className="num">{formatTHB(p.refunds)}</td>
                <td className="num">{formatCount(p.paid_orders)}</td>
                <td className="num">{formatCount(p.units)}</td>
                <td className="num">{formatRate(p.share_of_revenue) ?? none}</td>
                <td className="num">{p.average_order_value != null ? formatTHB(p.average_order_value) : none}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
