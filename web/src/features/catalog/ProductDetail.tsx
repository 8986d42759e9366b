import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { Can } from "../../auth";
import { useI18n, useT } from "../../i18n";
import { formatTHB } from "../../lib/format";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, ErrorState, PageHeader, Spinner, TextField, useToast } from "../../ui";
import { createSession, keys, patchProductPrice, productName, useProduct, useSessions, type Product } from "./api";
import { moneyProblem, toApiAmount } from "./money";
import { ApiErrorText, kindKey, useMoneyError } from "./parts";
import { bangkokInputToIso } from "./time";

/** One product: price, descriptions in Thai and English, a package's courses, a course's sessions. */
export function ProductDetail() {
  const { productId = "" } = useParams();
  const { t, lang } = useI18n();
  const product = useProduct(productId);

  if (product.isPending) return <Spinner />;
  if (product.isError) return <ErrorState error={product.error} onRetry={() => void product.refetch()} />;
  const p = product.data.value;
  return (
    <div className="catalog" data-testid="product-page">
      <Link className="back-link" to="/catalog">
        ← {t("catalog.products.back")}
      </Link>
      <PageHeader title={productName(p, lang)} />
      <section className="catalog-card">
        <dl className="catalog-facts">
          <div>
            <dt>{t("catalog.products.kind")}</dt>
            <dd>{t(kindKey(p.kind))}</dd>
          </div>
          <div>
            <dt>{t("catalog.product.nameTh")}</dt>
            <dd lang="th">{p.name_th}</dd>
          </div>
          <div>
            <dt>{t("catalog.product.nameEn")}</dt>
            <dd lang="en">{p.name_en ?? "—"}</dd>
          </div>
          <div>
            <dt>{t("catalog.products.category")}</dt>
            <dd>{p.category ?? "—"}</dd>
          </div>
          <div>
            <dt>{t("catalog.products.price")}</dt>
            <dd className="catalog-price" data-testid="product-price">
              {formatTHB(p.price)}
            </dd>
          </div>
          {p.duration_minutes !== null && (
            <div>
              <dt>{t("catalog.products.duration")}</dt>
              <dd>{t("catalog.products.minutes", { n: p.duration_minutes })}</dd>
            </div>
          )}
          <div>
            <dt>{t("catalog.products.active")}</dt>
            <dd>
              {p.active ? (
                <Badge tone="success">{t("catalog.products.onSale")}</Badge>
              ) : (
                <Badge>{t("catalog.products.retired")}</Badge>
              )}
            </dd>
          </div>
        </dl>
        <div className="catalog-descriptions">
          <div>
            <h2 className="catalog-card__title">{t("catalog.product.descriptionTh")}</h2>
            <p lang="th" className="catalog-pre">
              {p.description_th || t("catalog.product.noDescription")}
            </p>
          </div>
          <div>
            <h2 className="catalog-card__title">{t("catalog.product.descriptionEn")}</h2>
            <p lang="en" className="catalog-pre">
              {p.description_en || t("catalog.product.noDescription")}
            </p>
          </div>
        </div>
        {p.kind === "package" && (
          <div>
            <h2 className="catalog-card__title">{t("catalog.product.courses")}</h2>
            <ul className="catalog-list">
              {p.items.map((item) => (
                <li key={item.course_id}>
                  <Link to={`/catalog/products/${item.course_id}`}>{productName(item, lang)}</Link>{" "}
                  {t("catalog.product.quantity", { n: item.quantity })}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
      <Can permission="catalog:write">
        <PriceEditor product={p} etag={product.data.etag} onReload={() => void product.refetch()} />
      </Can>
      {p.kind === "course" && <Sessions productId={p.id} />}
    </div>
  );
}

function PriceEditor({ product, etag, onReload }: { product: Product; etag: string | null; onReload: () => void }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const moneyError = useMoneyError();
  const [price, setPrice] = useState("");
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () => patchProductPrice(product.id, etag ?? "", toApiAmount(price)),
    onSuccess: (result) => {
      qc.setQueryData(keys.product(product.id), result);
      void qc.invalidateQueries({ queryKey: ["catalog", "products"] });
      toast({ message: t("catalog.product.priceSaved", { price: formatTHB(result.value.price) }), tone: "success" });
      setPrice("");
      setTouched(false);
    },
  });
  const conflict = save.error instanceof ApiError && (save.error.status === 412 || save.error.status === 428);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (moneyProblem(price) !== null) return;
    save.mutate();
  };
  return (
    <section className="catalog-card">
      <h2 className="catalog-card__title">{t("catalog.product.changePrice")}</h2>
      <form className="catalog-inline-form" onSubmit={submit} noValidate>
        <TextField
          label={t("catalog.product.newPrice")}
          inputMode="decimal"
          value={price}
          placeholder={product.price}
          onChange={(e) => setPrice(e.target.value)}
          onBlur={() => setTouched(true)}
          error={moneyError(price, { show: touched })}
        />
        <Button type="submit" busy={save.isPending}>
          {t("catalog.product.savePrice")}
        </Button>
      </form>
      {conflict ? (
        <div className="catalog-error" role="alert" data-testid="price-conflict">
          <p>{t("catalog.product.conflict")}</p>
          <Button
            variant="secondary"
            size="sm"
            onClick={() => {
              save.reset();
              onReload();
            }}
          >
            {t("catalog.product.reload")}
          </Button>
        </div>
      ) : (
        save.isError && <ApiErrorText error={save.error} />
      )}
    </section>
  );
}

function Sessions({ productId }: { productId: string }) {
  const t = useT();
  const f = useFormat();
  const sessions = useSessions(productId);
  return (
    <section className="catalog-card" data-testid="sessions">
      <h2 className="catalog-card__title">{t("catalog.sessions.title")}</h2>
      {sessions.isPending ? (
        <Spinner />
      ) : sessions.isError ? (
        <ErrorState error={sessions.error} onRetry={() => void sessions.refetch()} />
      ) : sessions.data.length === 0 ? (
        <p className="muted">{t("catalog.sessions.empty")}</p>
      ) : (
        <table className="catalog-table">
          <thead>
            <tr>
              <th scope="col">{t("catalog.sessions.start")}</th>
              <th scope="col">{t("catalog.sessions.end")}</th>
              <th scope="col" className="num">
                {t("catalog.sessions.capacity")}
              </th>
              <th scope="col" className="num">
                {t("catalog.sessions.seatsLeft")}
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.map((s) => (
              <tr key={s.id} data-testid="session-row" data-session-id={s.id}>
                <td data-label={t("catalog.sessions.start")}>{f.dateTime(s.starts_at)}</td>
                <td data-label={t("catalog.sessions.end")}>{f.dateTime(s.ends_at)}</td>
                <td data-label={t("catalog.sessions.capacity")} className="num">
                  {s.capacity}
                </td>
                <td data-label={t("catalog.sessions.seatsLeft")} className="num">
                  <span data-testid="seats-left">{s.seats_left}</span>
                  {s.seats_left === 0 && (
                    <>
                      {" "}
                      <Badge tone="danger">{t("catalog.sessions.soldOut")}</Badge>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Can permission="catalog:write">
        <ScheduleSession productId={productId} />
      </Can>
    </section>
  );
}

function ScheduleSession({ productId }: { productId: string }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [capacity, setCapacity] = useState("10");
  const [touched, setTouched] = useState(false);
  const startIso = bangkokInputToIso(start);
  const endIso = bangkokInputToIso(end);
  const cap = /^\d+$/.test(capacity.trim()) ? Number(capacity.trim()) : NaN;
  const errors = {
    start: startIso ? undefined : t("catalog.field.required"),
    end: !endIso
      ? t("catalog.field.required")
      : startIso && new Date(endIso) <= new Date(startIso)
        ? t("catalog.sessions.endBeforeStart")
        : undefined,
    capacity: Number.isInteger(cap) && cap >= 1 && cap <= 1000 ? undefined : t("catalog.sessions.capacityInvalid"),
  };
  const valid = !errors.start && !errors.end && !errors.capacity;
  const create = useMutation({
    mutationFn: () => createSession(productId, { starts_at: startIso!, ends_at: endIso!, capacity: cap }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: keys.sessions(productId) });
      toast({ message: t("catalog.sessions.scheduled"), tone: "success" });
      setStart("");
      setEnd("");
      setTouched(false);
    },
  });
  return (
    <form
      className="catalog-subform"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setTouched(true);
        if (valid) create.mutate();
      }}
    >
      <h3 className="catalog-subform__title">{t("catalog.sessions.schedule")}</h3>
      <div className="catalog-form-grid">
        <TextField
          type="datetime-local"
          label={t("catalog.sessions.startLabel")}
          value={start}
          onChange={(e) => setStart(e.target.value)}
          error={touched ? errors.start : undefined}
        />
        <TextField
          type="datetime-local"
          label={t("catalog.sessions.endLabel")}
          value={end}
          onChange={(e) => setEnd(e.target.value)}
          error={touched ? errors.end : undefined}
        />
        <TextField
          type="number"
          min={1}
          max={1000}
          label={t("catalog.sessions.capacity")}
          value={capacity}
          onChange={(e) => setCapacity(e.target.value)}
          error={touched ? errors.capacity : undefined}
        />
      </div>
      <Button type="submit" busy={create.isPending}>
        {t("catalog.sessions.schedule")}
      </Button>
      {create.isError && <ApiErrorText error={create.error} />}
    </form>
  );
}
