import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Can, useCan } from "../../auth";
import { useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { useFormat } from "../../lib/useFormat";
import { Button, ErrorState, PageHeader, Select, Spinner, TextField, useToast } from "../../ui";
import {
  cancelOrder,
  keys,
  PAYMENT_METHODS,
  recordPayment,
  recordRefund,
  useOrder,
  type Order,
  type PaymentMethod,
} from "./api";
import { moneyAtLeast, moneyProblem, toApiAmount, toSatang } from "./money";
import { ApiErrorText, StatusBadge, useMoneyError } from "./parts";
import { bangkokInputToIso, isoToBangkokInput } from "./time";

type Panel = "none" | "pay" | "refund" | "cancel";

/** One order: lines, payments and refunds, status and version; pay, refund or cancel it. */
export function OrderDetail() {
  const { orderId = "" } = useParams();
  const t = useT();
  const f = useFormat();
  const order = useOrder(orderId);
  const [panel, setPanel] = useState<Panel>("none");
  const canWrite = useCan("order:write");
  const canRefund = useCan("order:refund");

  if (order.isPending) return <Spinner />;
  if (order.isError) return <ErrorState error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data.value;
  const nothingPaid = toSatang(o.paid) === 0n;
  const canPay = canWrite && o.status === "pending" && toSatang(o.due) > 0n;
  const canGiveBack = canRefund && toSatang(o.paid) > 0n && (o.status === "paid" || o.status === "pending");
  const canCancel = canWrite && o.status === "pending" && nothingPaid;

  return (
    <div className="catalog" data-testid="order-page">
      <Link className="back-link" to="/catalog/orders">
        ← {t("catalog.orders.back")}
      </Link>
      <PageHeader title={t("catalog.order.title")} />
      <section className="catalog-card">
        <div className="catalog-order-head">
          <StatusBadge status={o.status} />
          <span className="mono muted small" data-testid="order-id">
            {o.id}
          </span>
          {order.data.etag && <span className="muted small">{t("catalog.order.version", { etag: order.data.etag.replace(/^W\//, "").replace(/"/g, "") })}</span>}
        </div>
        <dl className="catalog-facts">
          <div>
            <dt>{t("catalog.order.customer")}</dt>
            <dd className="mono">
              <Link to={`/customers/${o.customer_id}`}>{o.customer_id}</Link>
            </dd>
          </div>
          <div>
            <dt>{t("catalog.orders.created")}</dt>
            <dd>{f.dateTime(o.created_at)}</dd>
          </div>
          <div>
            <dt>{t("catalog.orders.total")}</dt>
            <dd className="catalog-price" data-testid="order-total">
              {formatTHB(o.total)}
            </dd>
          </div>
          <div>
            <dt>{t("catalog.orders.paid")}</dt>
            <dd data-testid="order-paid">{formatTHB(o.paid)}</dd>
          </div>
          <div>
            <dt>{t("catalog.orders.due")}</dt>
            <dd data-testid="order-due">{formatTHB(o.due)}</dd>
          </div>
        </dl>
        {(canPay || canGiveBack || canCancel) && (
          <div className="catalog-actions">
            {canPay && (
              <Button onClick={() => setPanel("pay")} aria-expanded={panel === "pay"}>
                {t("catalog.order.recordPayment")}
              </Button>
            )}
            {canGiveBack && (
              <Button variant="secondary" onClick={() => setPanel("refund")} aria-expanded={panel === "refund"}>
                {t("catalog.order.refund")}
              </Button>
            )}
            {canCancel && (
              <Button variant="danger" onClick={() => setPanel("cancel")} aria-expanded={panel === "cancel"}>
                {t("catalog.order.cancel")}
              </Button>
            )}
          </div>
        )}
        {panel === "pay" && canPay && <PaymentForm order={o} onDone={() => setPanel("none")} />}
        {panel === "refund" && canGiveBack && (
          <Can permission="order:refund">
            <RefundForm order={o} onDone={() => setPanel("none")} />
          </Can>
        )}
        {panel === "cancel" && canCancel && <CancelConfirm order={o} onDone={() => setPanel("none")} />}
      </section>

      <section className="catalog-card">
        <h2 className="catalog-card__title">{t("catalog.order.lines")}</h2>
        <table className="catalog-table" data-testid="order-lines">
          <thead>
            <tr>
              <th scope="col">{t("catalog.order.product")}</th>
              <th scope="col" className="num">
                {t("catalog.order.quantity")}
              </th>
              <th scope="col" className="num">
                {t("catalog.order.unitPrice")}
              </th>
              <th scope="col" className="num">
                {t("catalog.order.discount")}
              </th>
              <th scope="col" className="num">
                {t("catalog.order.lineTotal")}
              </th>
            </tr>
          </thead>
          <tbody>
            {o.lines.map((line, i) => (
              <tr key={i}>
                <td data-label={t("catalog.order.product")}>
                  <Link to={`/catalog/products/${line.product_id}`}>{line.product_name}</Link>
                </td>
                <td data-label={t("catalog.order.quantity")} className="num">
                  {line.quantity}
                </td>
                <td data-label={t("catalog.order.unitPrice")} className="num">
                  {formatTHB(line.unit_price)}
                </td>
                <td data-label={t("catalog.order.discount")} className="num">
                  {formatTHB(line.discount)}
                </td>
                <td data-label={t("catalog.order.lineTotal")} className="num">
                  {formatTHB(line.line_total)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="catalog-card">
        <h2 className="catalog-card__title">{t("catalog.order.payments")}</h2>
        {o.payments.length === 0 ? (
          <p className="muted">{t("catalog.order.noPayments")}</p>
        ) : (
          <table className="catalog-table" data-testid="order-payments">
            <thead>
              <tr>
                <th scope="col">{t("catalog.order.receivedAt")}</th>
                <th scope="col">{t("catalog.order.kind.payment")}</th>
                <th scope="col">{t("catalog.order.method")}</th>
                <th scope="col" className="num">
                  {t("catalog.order.amount")}
                </th>
                <th scope="col">{t("catalog.order.reference")}</th>
              </tr>
            </thead>
            <tbody>
              {o.payments.map((p) => (
                <tr key={p.id}>
                  <td data-label={t("catalog.order.receivedAt")}>{f.dateTime(p.received_at)}</td>
                  <td data-label={t("catalog.order.kind.payment")}>{t(`catalog.order.kind.${p.kind}`)}</td>
                  <td data-label={t("catalog.order.method")}>{t(`catalog.method.${p.method}`)}</td>
                  <td data-label={t("catalog.order.amount")} className="num">
                    {p.kind === "refund" ? `−${formatTHB(p.amount)}` : formatTHB(p.amount)}
                  </td>
                  <td data-label={t("catalog.order.reference")}>
                    {p.reference ?? "—"}
                    {p.reason && <div className="muted small">{p.reason}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

function useOrderUpdated(orderId: string) {
  const qc = useQueryClient();
  return (updated: Order) => {
    qc.setQueryData(keys.order(orderId), (old: { value: Order; etag: string | null } | undefined) => ({
      value: updated,
      etag: old?.etag ?? null,
    }));
    // The ETag grows with each change: read it again, and everything that shows orders or seats.
    void qc.invalidateQueries({ queryKey: ["orders"] });
    void qc.invalidateQueries({ queryKey: ["catalog"] });
    void qc.invalidateQueries({ queryKey: ["customers"] });
  };
}

function methodOptions(t: ReturnType<typeof useT>) {
  return PAYMENT_METHODS.map((m) => ({ value: m, label: t(`catalog.method.${m}`) }));
}

function PaymentForm({ order, onDone }: { order: Order; onDone: () => void }) {
  const t = useT();
  const toast = useToast();
  const moneyError = useMoneyError();
  const updated = useOrderUpdated(order.id);
  const [amount, setAmount] = useState(order.due);
  const [method, setMethod] = useState<PaymentMethod>("transfer");
  const [receivedAt, setReceivedAt] = useState(() => isoToBangkokInput(new Date()));
  const [reference, setReference] = useState("");
  const [touched, setTouched] = useState(false);
  const amountError =
    moneyError(amount, { positive: true }) ??
    (moneyProblem(amount) === null && !moneyAtLeast(order.due, toApiAmount(amount))
      ? t("catalog.order.overDue", { due: formatTHB(order.due) })
      : undefined);
  const receivedIso = bangkokInputToIso(receivedAt);
  const pay = useMutation({
    mutationFn: () =>
      recordPayment(order.id, {
        amount: toApiAmount(amount),
        method,
        received_at: receivedIso!,
        reference: reference.trim() || null,
      }),
    onSuccess: (o) => {
      updated(o);
      toast({ message: t("catalog.order.paymentRecorded"), tone: "success" });
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!amountError && receivedIso) pay.mutate();
  };
  return (
    <form className="catalog-subform" onSubmit={submit} noValidate data-testid="payment-form">
      <h3 className="catalog-subform__title">{t("catalog.order.recordPayment")}</h3>
      <div className="catalog-form-grid">
        <TextField
          label={t("catalog.order.amount")}
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          error={touched ? amountError : undefined}
        />
        <Select
          label={t("catalog.order.method")}
          value={method}
          onChange={(e) => setMethod(e.target.value as PaymentMethod)}
          options={methodOptions(t)}
        />
        <TextField
          type="datetime-local"
          label={t("catalog.order.receivedAt")}
          value={receivedAt}
          onChange={(e) => setReceivedAt(e.target.value)}
          error={touched && !receivedIso ? t("catalog.field.required") : undefined}
        />
        <TextField label={t("catalog.order.reference")} value={reference} maxLength={200} onChange={(e) => setReference(e.target.value)} />
      </div>
      <div className="catalog-actions">
        <Button type="submit" busy={pay.isPending}>
          {t("catalog.order.recordPayment")}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          {t("catalog.order.close")}
        </Button>
      </div>
      {pay.isError && <ApiErrorText error={pay.error} />}
    </form>
  );
}

function RefundForm({ order, onDone }: { order: Order; onDone: () => void }) {
  const t = useT();
  const toast = useToast();
  const moneyError = useMoneyError();
  const updated = useOrderUpdated(order.id);
  const [amount, setAmount] = useState(order.paid);
  const [method, setMethod] = useState<PaymentMethod>("transfer");
  const [reason, setReason] = useState("");
  const [reference, setReference] = useState("");
  const [touched, setTouched] = useState(false);
  const amountError =
    moneyError(amount, { positive: true }) ??
    (moneyProblem(amount) === null && !moneyAtLeast(order.paid, toApiAmount(amount))
      ? t("catalog.order.overPaid", { paid: formatTHB(order.paid) })
      : undefined);
  const refund = useMutation({
    mutationFn: () =>
      recordRefund(order.id, {
        amount: toApiAmount(amount),
        method,
        reason: reason.trim() || null,
        reference: reference.trim() || null,
      }),
    onSuccess: (o) => {
      updated(o);
      toast({ message: t("catalog.order.refundRecorded"), tone: "success" });
      onDone();
    },
  });
  return (
    <form
      className="catalog-subform"
      noValidate
      data-testid="refund-form"
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (!amountError) refund.mutate();
      }}
    >
      <h3 className="catalog-subform__title">{t("catalog.order.refund")}</h3>
      <div className="catalog-form-grid">
        <TextField
          label={t("catalog.order.amount")}
          inputMode="decimal"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          error={touched ? amountError : undefined}
        />
        <Select
          label={t("catalog.order.method")}
          value={method}
          onChange={(e) => setMethod(e.target.value as PaymentMethod)}
          options={methodOptions(t)}
        />
        <TextField label={t("catalog.order.reason")} value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
        <TextField label={t("catalog.order.reference")} value={reference} maxLength={200} onChange={(e) => setReference(e.target.value)} />
      </div>
      <div className="catalog-actions">
        <Button type="submit" variant="danger" busy={refund.isPending}>
          {t("catalog.order.refund")}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          {t("catalog.order.close")}
        </Button>
      </div>
      {refund.isError && <ApiErrorText error={refund.error} />}
    </form>
  );
}

function CancelConfirm({ order, onDone }: { order: Order; onDone: () => void }) {
  const t = useT();
  const toast = useToast();
  const updated = useOrderUpdated(order.id);
  const cancel = useMutation({
    mutationFn: () => cancelOrder(order.id),
    onSuccess: (o) => {
      updated(o);
      toast({ message: t("catalog.order.cancelled"), tone: "success" });
      onDone();
    },
  });
  return (
    <div className="catalog-subform" role="alertdialog" aria-label={t("catalog.order.cancel")}>
      <p>{t("catalog.order.cancelConfirm")}</p>
      <div className="catalog-actions">
        <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>
          {t("catalog.order.cancelYes")}
        </Button>
        <Button variant="ghost" onClick={onDone}>
          {t("catalog.order.keep")}
        </Button>
      </div>
      {cancel.isError && <ApiErrorText error={cancel.error} />}
    </div>
  );
}
