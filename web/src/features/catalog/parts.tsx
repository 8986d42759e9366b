import { NavLink } from "react-router";
import { ApiError } from "../../api/client";
import { useT, type MessageKey } from "../../i18n";
import { Badge, type BadgeTone } from "../../ui";
import { moneyProblem } from "./money";
import type { OrderStatus } from "./api";

/** Products | Orders. */
export function CatalogTabs() {
  const t = useT();
  const cls = ({ isActive }: { isActive: boolean }) => `catalog-tab${isActive ? " catalog-tab--active" : ""}`;
  return (
    <nav className="catalog-tabs" aria-label={t("catalog.tabs")}>
      <NavLink to="/catalog" end className={cls}>
        {t("catalog.tab.products")}
      </NavLink>
      <NavLink to="/catalog/orders" className={cls}>
        {t("catalog.tab.orders")}
      </NavLink>
    </nav>
  );
}

const STATUS_TONE: Record<OrderStatus, BadgeTone> = {
  pending: "warning",
  paid: "success",
  refunded: "info",
  cancelled: "neutral",
};

export function StatusBadge({ status }: { status: OrderStatus }) {
  const t = useT();
  return (
    <span data-testid="order-status">
      <Badge tone={STATUS_TONE[status]}>{t(`catalog.status.${status}`)}</Badge>
    </span>
  );
}

/** The translated problem of a typed amount, or undefined when it is fine (or not typed yet). */
export function useMoneyError() {
  const t = useT();
  return (value: string, opts: { positive?: boolean; optional?: boolean; show?: boolean } = {}) => {
    if (opts.show === false) return undefined;
    if (opts.optional && value.trim() === "") return undefined;
    const problem = moneyProblem(value, opts);
    return problem ? t(`catalog.money.${problem}` as MessageKey) : undefined;
  };
}

/** An API error in words: the kind's sentence, plus the server's own sentence when it has one. */
export function ApiErrorText({ error, overrides }: { error: unknown; overrides?: Partial<Record<number, MessageKey>> }) {
  const t = useT();
  if (!(error instanceof ApiError)) return <p className="catalog-error" role="alert">{t("error.unknown")}</p>;
  const key = overrides?.[error.status] ?? error.messageKey;
  const fields = error.fieldErrors
    .map((e) => e["msg"] ?? e["message"] ?? e["detail"])
    .filter((m): m is string => typeof m === "string");
  return (
    <div className="catalog-error" role="alert">
      <p>{t(key)}</p>
      {error.detail && <p className="catalog-error__detail">{error.detail}</p>}
      {fields.length > 0 && (
        <ul className="catalog-error__detail">
          {fields.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function kindKey(kind: string): MessageKey {
  return (["course", "package", "equipment", "menu_item"].includes(kind) ? `catalog.kind.${kind}` : "catalog.kind.other") as MessageKey;
}

