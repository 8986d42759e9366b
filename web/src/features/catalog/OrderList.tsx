import { useState } from "react";
import { Link } from "react-router";
import { Can } from "../../auth";
import { useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { useFormat } from "../../lib/useFormat";
import { Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField } from "../../ui";
import { ORDER_STATUSES, useOrders, type OrderQuery, type OrderStatus } from "./api";
import { CatalogTabs, StatusBadge } from "./parts";
import { useDebounced } from "./useDebounced";

/** Orders, newest first, by status or customer. */
export function OrderList() {
  const t = useT();
  const f = useFormat();
  const [status, setStatus] = useState<"" | OrderStatus>("");
  const [customer, setCustomer] = useState("");
  const dCustomer = useDebounced(customer.trim(), 300);
  const query: OrderQuery = { limit: 30 };
  if (status) query.status = status;
  if (dCustomer) query.customer_id = dCustomer;
  const orders = useOrders(query);
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <div className="catalog">
      <PageHeader
        title={t("page.catalog")}
        actions={
          <Can permission="order:write">
            <Link className="btn btn--primary" to="/catalog/orders/new">
              {t("catalog.orders.take")}
            </Link>
          </Can>
        }
      />
      <CatalogTabs />
      <div className="catalog-filters">
        <Select
          label={t("catalog.orders.status")}
          value={status}
          onChange={(e) => setStatus(e.target.value as "" | OrderStatus)}
          options={[
            { value: "", label: t("catalog.orders.allStatuses") },
            ...ORDER_STATUSES.map((s) => ({ value: s, label: t(`catalog.status.${s}`) })),
          ]}
        />
        <TextField
          label={t("catalog.orders.customer")}
          hint={t("catalog.orders.customerHint")}
          value={customer}
          onChange={(e) => setCustomer(e.target.value)}
        />
      </div>
      {orders.isPending ? (
        <Spinner />
      ) : orders.isError ? (
        <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title={t("catalog.orders.empty")} body={t("catalog.orders.emptyBody")} />
      ) : (
        <>
          <table className="catalog-table" data-testid="order-table">
            <thead>
              <tr>
                <th scope="col">{t("catalog.orders.created")}</th>
                <th scope="col">{t("catalog.order.customer")}</th>
                <th scope="col">{t("catalog.orders.status")}</th>
                <th scope="col" className="num">
                  {t("catalog.orders.total")}
                </th>
                <th scope="col" className="num">
                  {t("catalog.orders.paid")}
                </th>
                <th scope="col" className="num">
                  {t("catalog.orders.due")}
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((o) => (
                <tr key={o.id} data-testid="order-row">
                  <td data-label={t("catalog.orders.created")}>
                    <Link to={`/catalog/orders/${o.id}`} className="catalog-strong">
                      {f.dateTime(o.created_at)}
                    </Link>
                  </td>
                  <td data-label={t("catalog.order.customer")} className="mono">
                    <Link to={`/customers/${o.customer_id}`}>{o.customer_id}</Link>
                  </td>
                  <td data-label={t("catalog.orders.status")}>
                    <StatusBadge status={o.status} />
                  </td>
                  <td data-label={t("catalog.orders.total")} className="num">
                    {formatTHB(o.total)}
                  </td>
                  <td data-label={t("catalog.orders.paid")} className="num">
                    {formatTHB(o.paid)}
                  </td>
                  <td data-label={t("catalog.orders.due")} className="num">
                    {formatTHB(o.due)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {orders.hasNextPage && (
            <div className="catalog-pager">
              <Button variant="secondary" busy={orders.isFetchingNextPage} onClick={() => void orders.fetchNextPage()}>
                {t("catalog.orders.more")}
              </Button>
            </div>
          )}
        </>
      )}
    </div>
  );
}
