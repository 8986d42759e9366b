import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../api/client";
import { errorMessageKey } from "../../api/errors";
import { useCan } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Button, ErrorState, Spinner, TextField, useToast } from "../../ui";
import { fetchFreshRecord, keys, newerRecord, useCustomerRecord } from "./api";
import {
  buildPatch,
  conflictRows,
  draftOf,
  etagOf,
  fieldErrorMap,
  isEmptyPatch,
  messengerPsid,
  PROFILE_FIELDS,
  reapplyMine,
  type CustomerView,
  type Draft,
  type ProfileField,
} from "./logic";
import { patchCustomer } from "./mutations";
import { Card, Facts } from "./parts";

type Mode =
  | { kind: "view" }
  | { kind: "edit"; base: Draft; etag: string; draft: Draft; errors: Record<string, string>; formError: string | null }
  | { kind: "conflict"; base: Draft; mine: Draft; theirs: Draft; theirsEtag: string };

export function ProfileCard({
  customerId,
  fromOverview,
  lifetimeValue,
}: {
  customerId: string;
  /** The 360's copy (from the database): used when the single GET was served an older version. */
  fromOverview: CustomerView;
  lifetimeValue: string | null;
}) {
  const t = useT();
  const f = useFormat();
  const toast = useToast();
  const qc = useQueryClient();
  const canWrite = useCan("customer:write");
  const record = useCustomerRecord(customerId);
  const [mode, setMode] = useState<Mode>({ kind: "view" });
  const [saving, setSaving] = useState(false);

  const title = t("customers.profile.title");
  if (record.isPending)
    return (
      <Card title={title}>
        <Spinner />
      </Card>
    );
  if (record.isError)
    return (
      <Card title={title}>
        <ErrorState error={record.error} onRetry={() => void record.refetch()} />
      </Card>
    );
  const { customer, etag } = newerRecord(record.data, { customer: fromOverview, etag: etagOf(fromOverview.version ?? 1) });
  const editable = canWrite;

  async function save(base: Draft, baseEtag: string, draft: Draft) {
    const patch = buildPatch(base, draft);
    if (isEmptyPatch(patch)) {
      toast({ message: t("customers.profile.noChanges") });
      setMode({ kind: "view" });
      return;
    }
    setSaving(true);
    try {
      const saved = await patchCustomer(customerId, baseEtag, patch);
      qc.setQueryData(keys.record(customerId), { customer: { ...customer, ...saved.customer }, etag: saved.etag });
      void qc.invalidateQueries({ queryKey: keys.one(customerId) });
      void qc.invalidateQueries({ queryKey: ["customers", "list"] });
      toast({ message: t("customers.profile.saved"), tone: "success" });
      setMode({ kind: "view" });
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        try {
          const fresh = await fetchFreshRecord(customerId);
          qc.setQueryData(keys.record(customerId), fresh);
          setMode({ kind: "conflict", base, mine: draft, theirs: draftOf(fresh.customer), theirsEtag: fresh.etag });
        } catch (loadErr) {
          setMode({ kind: "edit", base, etag: baseEtag, draft, errors: {}, formError: t(errorMessageKey(loadErr)) });
        }
      } else if (err instanceof ApiError && err.kind === "validation") {
        const errors = fieldErrorMap(err.fieldErrors);
        const known = Object.keys(errors).some((k) => (PROFILE_FIELDS as readonly string[]).includes(k));
        setMode({ kind: "edit", base, etag: baseEtag, draft, errors, formError: known ? null : (err.detail ?? t(err.messageKey)) });
      } else {
        setMode({ kind: "edit", base, etag: baseEtag, draft, errors: {}, formError: t(errorMessageKey(err)) });
      }
    } finally {
      setSaving(false);
    }
  }

  const startEdit = () => {
    const base = draftOf(customer);
    setMode({ kind: "edit", base, etag, draft: base, errors: {}, formError: null });
  };

  if (mode.kind === "conflict") {
    const rows = conflictRows(mode.base, mode.mine, mode.theirs);
    const show = (v: string) => (v.trim() ? v : t("customers.empty"));
    return (
      <Card title={title} testId="profile-card">
        <div className="conflict" role="alert" data-testid="edit-conflict">
          <h3 className="conflict__title">{t("customers.conflict.title")}</h3>
          <p>{t("customers.conflict.body")}</p>
          <table className="conflict__table">
            <thead>
              <tr>
                <th scope="col">{t("customers.conflict.field")}</th>
                <th scope="col">{t("customers.conflict.theirs")}</th>
                <th scope="col">{t("customers.conflict.mine")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.field} className={r.clash ? "conflict__row--clash" : undefined}>
                  <th scope="row">
                    {t(`customers.field.${r.field}`)}
                    {r.clash && <span className="conflict__clash"> · {t("customers.conflict.clash")}</span>}
                  </th>
                  <td data-label={t("customers.conflict.theirs")} className={r.theirsChanged ? "conflict__changed" : undefined}>
                    {show(r.theirs)}
                  </td>
                  <td data-label={t("customers.conflict.mine")} className={r.mineChanged ? "conflict__changed" : undefined}>
                    {show(r.mine)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="form-actions">
            <Button
              variant="secondary"
              disabled={saving}
              onClick={() => {
                setMode({ kind: "view" });
                void qc.invalidateQueries({ queryKey: keys.one(customerId) });
              }}
            >
              {t("customers.conflict.keepTheirs")}
            </Button>
            <Button
              busy={saving}
              onClick={() => void save(mode.theirs, mode.theirsEtag, reapplyMine(mode.base, mode.mine, mode.theirs))}
            >
              {t("customers.conflict.reapply")}
            </Button>
          </div>
        </div>
      </Card>
    );
  }

  if (mode.kind === "edit") {
    const set = (field: ProfileField, value: string) =>
      setMode({ ...mode, draft: { ...mode.draft, [field]: value }, errors: { ...mode.errors, [field]: "" } });
    const onSubmit = (e: FormEvent) => {
      e.preventDefault();
      void save(mode.base, mode.etag, mode.draft);
    };
    return (
      <Card title={title} testId="profile-card">
        <form className="profile-form" onSubmit={onSubmit} noValidate>
          {PROFILE_FIELDS.map((field) => (
            <TextField
              key={field}
              name={field}
              label={t(`customers.field.${field}`)}
              value={mode.draft[field]}
              type={field === "email" ? "email" : field === "phone" ? "tel" : "text"}
              hint={field === "tags" ? t("customers.filter.tagHint") : undefined}
              error={mode.errors[field] || undefined}
              onChange={(e) => set(field, e.target.value)}
            />
          ))}
          {mode.formError && (
            <p className="form-error" role="alert">
              {mode.formError}
            </p>
          )}
          <div className="form-actions">
            <Button variant="secondary" disabled={saving} onClick={() => setMode({ kind: "view" })}>
              {t("customers.profile.cancel")}
            </Button>
            <Button type="submit" busy={saving}>
              {t("customers.profile.save")}
            </Button>
          </div>
        </form>
      </Card>
    );
  }

  const empty = t("customers.empty");
  const psid = messengerPsid(customer);
  const consent = customer.consent;
  return (
    <Card
      title={title}
      testId="profile-card"
      actions={
        editable && (
          <Button variant="secondary" size="sm" onClick={startEdit}>
            {t("customers.profile.edit")}
          </Button>
        )
      }
    >
      <Facts
        rows={[
          ...PROFILE_FIELDS.map((field): [string, string] => {
            const v = field === "tags" ? (customer.tags ?? []).join(", ") : customer[field];
            return [t(`customers.field.${field}`), v || empty];
          }),
          [t("customers.field.channel"), customer.channel],
          ...(psid ? [[t("customers.field.psid"), psid] as [string, string]] : []),
          [
            t("customers.field.consent"),
            consent
              ? `${t(`customers.consent.${consent.status}`, { method: consent.method })} · ${f.dateTime(consent.at)}`
              : t("customers.consent.none"),
          ],
          ...(lifetimeValue ? [[t("customers.field.lifetimeValue"), f.thb(lifetimeValue)] as [string, string]] : []),
        ]}
      />
    </Card>
  );
}
