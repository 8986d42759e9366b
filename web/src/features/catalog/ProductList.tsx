import { useState } from "react";
import { Link } from "react-router";
import { Can } from "../../auth";
import { useI18n } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField } from "../../ui";
import { PRODUCT_KINDS, productName, useProducts, type ProductKind, type ProductQuery } from "./api";
import { CatalogTabs, kindKey } from "./parts";
import { useDebounced } from "./useDebounced";

const PAGE = 20;

/** Products: search as you type, filter by kind, category and on sale; pages of 20 with the total. */
export function ProductList() {
  const { t, lang } = useI18n();
  const [q, setQ] = useState("");
  const [kind, setKind] = useState<"" | ProductKind>("");
  const [category, setCategory] = useState("");
  const [active, setActive] = useState<"" | "true" | "false">("true");
  const [offset, setOffset] = useState(0);
  const dq = useDebounced(q.trim(), 250);
  const dCategory = useDebounced(category.trim(), 400);

  const query: ProductQuery = { limit: PAGE, offset };
  if (dq) query.q = dq;
  if (kind) query.kind = kind;
  if (dCategory) query.category = dCategory;
  if (active) query.active = active === "true";
  const products = useProducts(query);

  const reset = () => setOffset(0);
  const page = products.data;
  return (
    <div className="catalog">
      <PageHeader
        title={t("page.catalog")}
        actions={
          <Can permission="catalog:write">
            <Link className="btn btn--primary" to="/catalog/products/new">
              {t("catalog.products.add")}
            </Link>
          </Can>
        }
      />
      <CatalogTabs />
      <div className="catalog-filters">
        <TextField
          className="catalog-filters__search"
          type="search"
          label={t("catalog.products.search")}
          hint={t("catalog.products.searchHint")}
          value={q}
          onChange={(e) => {
            setQ(e.target.value);
            reset();
          }}
        />
        <Select
          label={t("catalog.products.kind")}
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as "" | ProductKind);
            reset();
          }}
          options={[
            { value: "", label: t("catalog.products.allKinds") },
            ...PRODUCT_KINDS.map((k) => ({ value: k, label: t(kindKey(k)) })),
          ]}
        />
        <TextField
          label={t("catalog.products.category")}
          value={category}
          onChange={(e) => {
            setCategory(e.target.value);
            reset();
          }}
        />
        <Select
          label={t("catalog.products.active")}
          value={active}
          onChange={(e) => {
            setActive(e.target.value as "" | "true" | "false");
            reset();
          }}
          options={[
            { value: "true", label: t("catalog.products.activeOnly") },
            { value: "false", label: t("catalog.products.retiredOnly") },
            { value: "", label: t("catalog.products.activeAll") },
          ]}
        />
      </div>
      {products.isPending ? (
        <Spinner />
      ) : products.isError ? (
        <ErrorState error={products.error} onRetry={() => void products.refetch()} />
      ) : page && page.items.length === 0 ? (
        <EmptyState title={t("catalog.products.empty")} body={t("catalog.products.emptyBody")} />
      ) : page ? (
        <>
          <table className="catalog-table" data-testid="product-table">
            <thead>
              <tr>
                <th scope="col">{t("catalog.products.name")}</th>
                <th scope="col">{t("catalog.products.kind")}</th>
                <th scope="col">{t("catalog.products.category")}</th>
                <th scope="col" className="num">
                  {t("catalog.products.price")}
                </th>
                <th scope="col">{t("catalog.products.active")}</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((p) => (
                <tr key={p.id} data-testid="product-row">
                  <td data-label={t("catalog.products.name")}>
                    <Link to={`/catalog/products/${p.id}`} className="catalog-strong">
                      {productName(p, lang)}
                    </Link>
                    {lang === "en" && p.name_en && <div className="muted small" lang="th">{p.name_th}</div>}
                  </td>
                  <td data-label={t("catalog.products.kind")}>{t(kindKey(p.kind))}</td>
                  <td data-label={t("catalog.products.category")}>{p.category ?? "—"}</td>
                  <td data-label={t("catalog.products.price")} className="num">
                    {formatTHB(p.price)}
                  </td>
                  <td data-label={t("catalog.products.active")}>
                    {p.active ? (
                      <Badge tone="success">{t("catalog.products.onSale")}</Badge>
                    ) : (
                      <Badge>{t("catalog.products.retired")}</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="catalog-pager">
            <span>
              {t("catalog.products.range", {
                from: offset + 1,
                to: offset + page.items.length,
                total: page.total,
              })}
            </span>
            <Button variant="secondary" size="sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              {t("catalog.products.previous")}
            </Button>
            <Button
              variant="secondary"
              size="sm"
              disabled={offset + page.items.length >= page.total}
              onClick={() => setOffset(offset + PAGE)}
            >
              {t("catalog.products.next")}
            </Button>
          </div>
        </>
      ) : null}
    </div>
  );
}
