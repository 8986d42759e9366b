import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useI18n } from "../../i18n";
import { Button, PageHeader, Select, TextField, useToast } from "../../ui";
import { createProduct, PRODUCT_KINDS, productName, useProducts, type ProductIn, type ProductKind } from "./api";
import { moneyProblem, toApiAmount } from "./money";
import { ApiErrorText, kindKey, useMoneyError } from "./parts";

/** Add a product (catalog:write). */
export function AddProduct() {
  const { t, lang } = useI18n();
  const toast = useToast();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const moneyError = useMoneyError();
  const [kind, setKind] = useState<ProductKind>("course");
  const [nameTh, setNameTh] = useState("");
  const [nameEn, setNameEn] = useState("");
  const [category, setCategory] = useState("");
  const [price, setPrice] = useState("");
  const [duration, setDuration] = useState("");
  const [descTh, setDescTh] = useState("");
  const [descEn, setDescEn] = useState("");
  const [courses, setCourses] = useState<ReadonlySet<string>>(new Set());
  const [touched, setTouched] = useState(false);
  const courseList = useProducts({ kind: "course", active: true, limit: 200 });

  const durationOk = duration.trim() === "" || (/^\d+$/.test(duration.trim()) && Number(duration) > 0);
  const errors = {
    nameTh: nameTh.trim() ? undefined : t("catalog.field.required"),
    price: moneyError(price),
    duration: durationOk ? undefined : t("catalog.sessions.capacityInvalid"),
    courses: kind === "package" && courses.size === 0 ? t("catalog.product.packageNeedsCourse") : undefined,
  };
  const valid = !errors.nameTh && moneyProblem(price) === null && durationOk && !errors.courses;

  const create = useMutation({
    mutationFn: () => {
      const body: ProductIn = {
        kind,
        name_th: nameTh.trim(),
        name_en: nameEn.trim() || null,
        category: category.trim() || null,
        price: toApiAmount(price),
        description_th: descTh.trim() || null,
        description_en: descEn.trim() || null,
        duration_minutes: duration.trim() ? Number(duration) : null,
        active: true,
      };
      if (kind === "package") body.items = [...courses].map((course_id) => ({ course_id, quantity: 1 }));
      return createProduct(body);
    },
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ["catalog"] });
      toast({ message: t("catalog.product.created"), tone: "success" });
      void navigate(`/catalog/products/${p.id}`);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (valid) create.mutate();
  };
  return (
    <div className="catalog">
      <Link className="back-link" to="/catalog">
        ← {t("catalog.products.back")}
      </Link>
      <PageHeader title={t("catalog.product.newTitle")} />
      <form className="catalog-card catalog-form" onSubmit={submit} noValidate>
        <div className="catalog-form-grid">
          <Select
            label={t("catalog.products.kind")}
            value={kind}
            onChange={(e) => setKind(e.target.value as ProductKind)}
            options={PRODUCT_KINDS.map((k) => ({ value: k, label: t(kindKey(k)) }))}
          />
          <TextField
            label={t("catalog.product.nameTh")}
            lang="th"
            required
            value={nameTh}
            onChange={(e) => setNameTh(e.target.value)}
            error={touched ? errors.nameTh : undefined}
          />
          <TextField label={t("catalog.product.nameEn")} lang="en" value={nameEn} onChange={(e) => setNameEn(e.target.value)} />
          <TextField label={t("catalog.products.category")} value={category} onChange={(e) => setCategory(e.target.value)} />
          <TextField
            label={t("catalog.product.newPrice")}
            inputMode="decimal"
            required
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            error={touched ? errors.price : undefined}
          />
          <TextField
            label={t("catalog.products.duration")}
            type="number"
            min={1}
            value={duration}
            onChange={(e) => setDuration(e.target.value)}
            error={touched ? errors.duration : undefined}
          />
        </div>
        <div className="catalog-descriptions">
          <label className="field">
            <span className="field__label">{t("catalog.product.descriptionTh")}</span>
            <textarea className="field__input" lang="th" rows={4} value={descTh} onChange={(e) => setDescTh(e.target.value)} />
          </label>
          <label className="field">
            <span className="field__label">{t("catalog.product.descriptionEn")}</span>
            <textarea className="field__input" lang="en" rows={4} value={descEn} onChange={(e) => setDescEn(e.target.value)} />
          </label>
        </div>
        {kind === "package" && (
          <fieldset className="catalog-fieldset">
            <legend>{t("catalog.product.packageCourses")}</legend>
            {courseList.data?.items.map((c) => (
              <label key={c.id} className="catalog-check">
                <input
                  type="checkbox"
                  checked={courses.has(c.id)}
                  onChange={(e) => {
                    const next = new Set(courses);
                    if (e.target.checked) next.add(c.id);
                    else next.delete(c.id);
                    setCourses(next);
                  }}
                />
                {productName(c, lang)}
              </label>
            ))}
            {touched && errors.courses && <p className="field__error">{errors.courses}</p>}
          </fieldset>
        )}
        <div className="catalog-actions">
          <Button type="submit" busy={create.isPending}>
            {t("catalog.product.create")}
          </Button>
          <Link className="btn btn--ghost" to="/catalog">
            {t("catalog.product.cancel")}
          </Link>
        </div>
        {create.isError && <ApiErrorText error={create.error} />}
      </form>
    </div>
  );
}
