import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useI18n, useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { newIdempotencyKey } from "../../lib/idempotency";
import { useFormat } from "../../lib/useFormat";
import { Button, PageHeader, Select, Spinner, TextField, useToast } from "../../ui";
import {
  createOrder,
  customerName,
  productName,
  useCustomerSearch,
  useProducts,
  useSessions,
  type CustomerView,
  type OrderIn,
  type ProductSummary,
} from "./api";
import { moneyProblem, previewOrderTotal, toApiAmount } from "./money";
import { ApiErrorText, useMoneyError } from "./parts";
import { useDebounced } from "./useDebounced";

interface Line {
  key: number;
  productId: string;
  sessionId: string;
  quantity: string;
  discount: string;
}

let nextLineKey = 1;
const emptyLine = (): Line => ({ key: nextLineKey++, productId: "", sessionId: "", quantity: "1", discount: "" });

function quantityOf(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= 1 && n <= 100 ? n : null;
}

/** Take an order for a customer: pick them, add lines, create it; the server computes the total. */
export function TakeOrder() {
  const { t, lang } = useI18n();
  const toast = useToast();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const moneyError = useMoneyError();
  const [customer, setCustomer] = useState<CustomerView | null>(null);
  const [lines, setLines] = useState<Line[]>(() => [emptyLine()]);
  const [touched, setTouched] = useState(false);
  const [idempotencyKey] = useState(newIdempotencyKey);
  const products = useProducts({ active: true, limit: 200 });
  const byId = new Map<string, ProductSummary>((products.data?.items ?? []).map((p) => [p.id, p]));

  const update = (key: number, patch: Partial<Line>) =>
    setLines((ls) => ls.map((l) => (l.key === key ? { ...l, ...patch } : l)));

  const lineErrors = lines.map((l) => {
    const p = byId.get(l.productId);
    return {
      product: p ? undefined : t("catalog.field.required"),
      session: p?.kind === "course" && !l.sessionId ? t("catalog.take.needSession") : undefined,
      quantity: quantityOf(l.quantity) === null ? t("catalog.take.quantityInvalid") : undefined,
      discount: moneyError(l.discount, { optional: true }),
    };
  });
  const valid = customer !== null && lineErrors.every((e) => !e.product && !e.session && !e.quantity && !e.discount);
  const preview = previewOrderTotal(
    lines
      .filter((l) => byId.has(l.productId))
      .map((l) => ({ unitPrice: byId.get(l.productId)!.price, quantity: quantityOf(l.quantity) ?? 0, discount: l.discount })),
  );

  const create = useMutation({
    mutationFn: () => {
      const body: OrderIn = {
        customer_id: customer!.customer_id,
        lines: lines.map((l) => ({
          product_id: l.productId,
          session_id: byId.get(l.productId)?.kind === "course" ? l.sessionId : null,
          quantity: quantityOf(l.quantity)!,
          discount: l.discount.trim() && moneyProblem(l.discount) === null ? toApiAmount(l.discount) : "0.00",
        })),
      };
      return createOrder(body, idempotencyKey);
    },
    onSuccess: (order) => {
      void qc.invalidateQueries({ queryKey: ["orders"] });
      void qc.invalidateQueries({ queryKey: ["catalog"] });
      toast({ message: t("catalog.take.created", { total: formatTHB(order.total) }), tone: "success" });
      void navigate(`/catalog/orders/${order.id}`);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (valid) create.mutate();
  };

  return (
    <div className="catalog" data-testid="take-order">
      <Link className="back-link" to="/catalog/orders">
        ← {t("catalog.orders.back")}
      </Link>
      <PageHeader title={t("catalog.take.title")} />
      <form onSubmit={submit} noValidate className="catalog-form">
        <section className="catalog-card">
          <h2 className="catalog-card__title">{t("catalog.order.customer")}</h2>
          {customer ? (
            <div className="catalog-picked" data-testid="picked-customer">
              <span className="catalog-strong">{customerName(customer)}</span>
              <span className="mono muted">{customer.customer_id}</span>
              <Button variant="ghost" size="sm" onClick={() => setCustomer(null)}>
                {t("catalog.take.change")}
              </Button>
            </div>
          ) : (
            <CustomerPicker onPick={setCustomer} />
          )}
          {touched && !customer && <p className="field__error">{t("catalog.take.needCustomer")}</p>}
        </section>

        <section className="catalog-card">
          <h2 className="catalog-card__title">{t("catalog.take.lines")}</h2>
          {products.isPending && <Spinner />}
          {lines.map((l, i) => {
            const p = byId.get(l.productId);
            const errs = lineErrors[i]!;
            return (
              <fieldset key={l.key} className="catalog-line" data-testid="order-line">
                <legend className="visually-hidden">
                  {t("catalog.order.lines")} {i + 1}
                </legend>
                <Select
                  label={t("catalog.order.product")}
                  value={l.productId}
                  onChange={(e) => update(l.key, { productId: e.target.value, sessionId: "" })}
                  options={[
                    { value: "", label: t("catalog.take.chooseProduct") },
                    ...(products.data?.items ?? []).map((x) => ({
                      value: x.id,
                      label: `${productName(x, lang)} · ${formatTHB(x.price)}`,
                    })),
                  ]}
                  aria-invalid={touched && errs.product ? true : undefined}
                />
                {p?.kind === "course" && (
                  <SessionSelect
                    productId={p.id}
                    value={l.sessionId}
                    onChange={(sessionId) => update(l.key, { sessionId })}
                    error={touched ? errs.session : undefined}
                  />
                )}
                <TextField
                  label={t("catalog.order.quantity")}
                  type="number"
                  min={1}
                  max={100}
                  value={l.quantity}
                  onChange={(e) => update(l.key, { quantity: e.target.value })}
                  error={touched ? errs.quantity : undefined}
                />
                <TextField
                  label={t("catalog.take.discountLabel")}
                  inputMode="decimal"
                  value={l.discount}
                  onChange={(e) => update(l.key, { discount: e.target.value })}
                  error={errs.discount && (touched || l.discount) ? errs.discount : undefined}
                />
                {lines.length > 1 && (
                  <Button variant="ghost" size="sm" onClick={() => setLines((ls) => ls.filter((x) => x.key !== l.key))}>
                    {t("catalog.take.removeLine")}
                  </Button>
                )}
              </fieldset>
            );
          })}
          <Button variant="secondary" size="sm" onClick={() => setLines((ls) => [...ls, emptyLine()])}>
            {t("catalog.take.addLine")}
          </Button>
          {preview !== null && lines.some((l) => byId.has(l.productId)) && (
            <p className="catalog-preview" data-testid="order-preview">
              <span className="catalog-strong">{t("catalog.take.preview", { total: formatTHB(preview) })}</span>
              <span className="muted small">{t("catalog.take.previewHint")}</span>
            </p>
          )}
        </section>
        <div className="catalog-actions">
          <Button type="submit" busy={create.isPending}>
            {t("catalog.take.submit")}
          </Button>
        </div>
        {create.isError && (
          <ApiErrorText error={create.error} overrides={{ 409: "catalog.take.soldOut", 403: "catalog.take.discountTooHigh" }} />
        )}
      </form>
    </div>
  );
}

function CustomerPicker({ onPick }: { onPick: (c: CustomerView) => void }) {
  const t = useT();
  const [q, setQ] = useState("");
  const dq = useDebounced(q, 250);
  const search = useCustomerSearch(dq);
  const items = search.data?.items ?? [];
  return (
    <div className="catalog-picker">
      <TextField
        type="search"
        label={t("catalog.take.findCustomer")}
        hint={t("catalog.take.findHint")}
        value={q}
        onChange={(e) => setQ(e.target.value)}
        autoComplete="off"
      />
      {search.isFetching && <Spinner size="sm" />}
      {search.isError && <ApiErrorText error={search.error} />}
      {dq.trim().length >= 2 && search.isSuccess && items.length === 0 && <p className="muted">{t("catalog.take.noCustomer")}</p>}
      {items.length > 0 && dq.trim().length >= 2 && (
        <ul className="catalog-results" data-testid="customer-results">
          {items.map((c) => (
            <li key={c.customer_id}>
              <span>
                <span className="catalog-strong">{customerName(c)}</span>{" "}
                <span className="mono muted small">{c.customer_id}</span>
                {c.phone && <span className="muted small"> · {c.phone}</span>}
              </span>
              <Button size="sm" variant="secondary" onClick={() => onPick(c)}>
                {t("catalog.take.pick")}
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SessionSelect({
  productId,
  value,
  onChange,
  error,
}: {
  productId: string;
  value: string;
  onChange: (id: string) => void;
  error: string | undefined;
}) {
  const t = useT();
  const f = useFormat();
  const sessions = useSessions(productId);
  if (sessions.isPending) return <Spinner size="sm" />;
  if (sessions.isError) return <ApiErrorText error={sessions.error} />;
  if (sessions.data.length === 0) return <p className="field__error">{t("catalog.take.noSessions")}</p>;
  return (
    <div>
      <Select
        label={t("catalog.order.session")}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        options={[
          { value: "", label: t("catalog.take.chooseSession") },
          ...sessions.data.map((s) => ({
            value: s.id,
            label:
              s.seats_left > 0
                ? t("catalog.sessions.option", { start: f.dateTime(s.starts_at), left: s.seats_left, capacity: s.capacity })
                : t("catalog.sessions.optionSoldOut", { start: f.dateTime(s.starts_at) }),
          })),
        ]}
      />
      {error && <p className="field__error">{error}</p>}
    </div>
  );
}
