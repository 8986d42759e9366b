import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import type { components } from "../../api/client";
import { useAuth, type Role } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, PageHeader, Select, Spinner, TextField, useToast } from "../../ui";
import "./staff.css";

type Staff = components["schemas"]["crm_gateway__auth__staff_api__StaffOut"];
type Patch = components["schemas"]["StaffPatch"];

const ROLES: readonly Role[] = ["admin", "manager", "marketer", "agent", "viewer"];
const keys = {
  all: ["staff"] as const,
  list: (role: Role | null, active: boolean | null) => ["staff", "list", role, active] as const,
};

/** PATCH based on the version just read (If-Match with the ETag of GET one). */
async function patchStaff(id: string, body: Patch): Promise<Staff> {
  let got;
  try {
    got = await api.GET("/api/v1/staff/{staff_id}", { params: { path: { staff_id: id } } });
  } catch (err) {
    throw ApiError.from(err);
  }
  await unwrap(Promise.resolve(got));
  const etag = got.response.headers.get("ETag") ?? undefined;
  return unwrap(
    api.PATCH("/api/v1/staff/{staff_id}", {
      params: { path: { staff_id: id }, header: { "if-match": etag ?? null } },
      body,
    }),
  );
}

function displayName(s: Staff): string {
  return s.name || s.email;
}

function useStaffMutations() {
  const qc = useQueryClient();
  const toast = useToast();
  const t = useT();
  const onError = (err: unknown, name: string) => {
    if (err instanceof ApiError && err.status === 412) {
      toast({ message: t("staff.conflict", { name }), tone: "warning" });
    } else if (err instanceof ApiError && err.detail && (err.kind === "conflict" || err.kind === "validation")) {
      toast({ message: err.detail, tone: "danger", duration: 10000 });
    } else {
      toast({ message: t(err instanceof ApiError ? err.messageKey : "error.unknown"), tone: "danger" });
    }
    void qc.invalidateQueries({ queryKey: keys.all });
  };
  const patch = useMutation({
    mutationFn: ({ staff, body }: { staff: Staff; body: Patch }) => patchStaff(staff.id, body),
    onSuccess: (after, { body }) => {
      const name = displayName(after);
      if (body.role) toast({ message: t("staff.roleChanged", { name, role: t(`role.${after.role}`) }), tone: "success" });
      else if (body.is_active === false) toast({ message: t("staff.deactivated", { name }), tone: "success" });
      else if (body.is_active === true) toast({ message: t("staff.reactivated", { name }), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
    },
    onError: (err, { staff }) => onError(err, displayName(staff)),
  });
  return { patch, onError };
}

function PasswordForm({ staff, onDone }: { staff: Staff; onDone: () => void }) {
  const t = useT();
  const toast = useToast();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | undefined>();
  const set = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/staff/{staff_id}/password", { params: { path: { staff_id: staff.id } }, body: { password } })),
    onSuccess: () => {
      toast({ message: t("staff.passwordSet", { name: displayName(staff) }), tone: "success" });
      onDone();
    },
    onError: (err) => setError(err instanceof ApiError && err.detail ? err.detail : t(err instanceof ApiError ? err.messageKey : "error.unknown")),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password.length < 12) {
      setError(t("staff.form.passwordShort"));
      return;
    }
    setError(undefined);
    set.mutate();
  };
  return (
    <form className="staff-inline-form" onSubmit={submit} noValidate aria-label={t("staff.password.title", { name: displayName(staff) })}>
      <TextField
        label={t("staff.password.label")}
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={t("staff.form.passwordHint")}
        error={error}
      />
      <Button type="submit" size="sm" busy={set.isPending}>
        {t("staff.password.submit")}
      </Button>
      <Button size="sm" variant="ghost" onClick={onDone}>
        {t("staff.form.cancel")}
      </Button>
    </form>
  );
}

interface NewStaff {
  name: string;
  email: string;
  role: Role;
  password: string;
}

function AddForm({ onDone }: { onDone: () => void }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const [form, setForm] = useState<NewStaff>({ name: "", email: "", role: "agent", password: "" });
  const [errors, setErrors] = useState<Partial<Record<keyof NewStaff, string>>>({});
  const [serverError, setServerError] = useState<string | undefined>();
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/staff", { body: { ...form, name: form.name.trim(), email: form.email.trim() } })),
    onSuccess: (created) => {
      toast({ message: t("staff.created", { name: displayName(created) }), tone: "success" });
      void qc.invalidateQueries({ queryKey: keys.all });
      onDone();
    },
    onError: (err) => {
      if (err instanceof ApiError && err.kind === "conflict") setErrors({ email: t("staff.form.emailTaken") });
      else setServerError(err instanceof ApiError && err.detail ? err.detail : t(err instanceof ApiError ? err.messageKey : "error.unknown"));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Partial<Record<keyof NewStaff, string>> = {};
    if (!form.name.trim()) found.name = t("staff.form.required");
    if (!form.email.trim()) found.email = t("staff.form.required");
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim())) found.email = t("staff.form.emailInvalid");
    if (form.password.length < 12) found.password = t("staff.form.passwordShort");
    setErrors(found);
    setServerError(undefined);
    if (Object.keys(found).length === 0) create.mutate();
  };
  return (
    <section className="staff-card" aria-labelledby="staff-add-title">
      <h2 id="staff-add-title" className="staff-card__title">
        {t("staff.form.title")}
      </h2>
      <form className="staff-add-form" onSubmit={submit} noValidate data-testid="staff-add-form">
        <TextField label={t("staff.form.name")} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} error={errors.name} maxLength={200} />
        <TextField
          label={t("staff.form.email")}
          type="email"
          autoComplete="off"
          value={form.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
          error={errors.email}
          maxLength={320}
        />
        <Select
          label={t("staff.form.role")}
          value={form.role}
          onChange={(e) => setForm({ ...form, role: e.target.value as Role })}
          options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
        />
        <TextField
          label={t("staff.form.password")}
          type="password"
          autoComplete="new-password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          hint={t("staff.form.passwordHint")}
          error={errors.password}
          maxLength={256}
        />
        {serverError && (
          <p className="field__error" role="alert">
            {serverError}
          </p>
        )}
        <div className="staff-add-form__actions">
          <Button type="submit" busy={create.isPending}>
            {t("staff.form.submit")}
          </Button>
          <Button variant="ghost" onClick={onDone}>
            {t("staff.form.cancel")}
          </Button>
        </div>
      </form>
    </section>
  );
}

function StaffRow({ staff, isMe }: { staff: Staff; isMe: boolean }) {
  const t = useT();
  const f = useFormat();
  const { patch } = useStaffMutations();
  const [mode, setMode] = useState<"none" | "password" | "confirm">("none");
  const name = displayName(staff);
  const busy = patch.isPending;
  return (
    <>
      <tr data-testid="staff-row" data-email={staff.email} className={staff.is_active ? undefined : "is-inactive"}>
        <th scope="row">
          {staff.name ?? "—"}
          {isMe && <span className="muted"> ({t("staff.you")})</span>}
        </th>
        <td className="staff-email">{staff.email}</td>
        <td>
          <Select
            label={t("staff.changeRole", { name })}
            hideLabel
            value={staff.role}
            disabled={busy || isMe}
            onChange={(e) => patch.mutate({ staff, body: { role: e.target.value as Role } })}
            options={ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))}
          />
        </td>
        <td>
          <Badge tone={staff.is_active ? "success" : "neutral"}>{t(staff.is_active ? "staff.active" : "staff.inactive")}</Badge>
        </td>
        <td className="nowrap">{f.date(staff.created_at)}</td>
        <td>
          <div className="staff-actions">
            {staff.is_active ? (
              !isMe && (
                <Button size="sm" variant="danger" busy={busy} onClick={() => setMode(mode === "confirm" ? "none" : "confirm")}>
                  {t("staff.deactivate")}
                </Button>
              )
            ) : (
              <Button size="sm" variant="secondary" busy={busy} onClick={() => patch.mutate({ staff, body: { is_active: true } })}>
                {t("staff.reactivate")}
              </Button>
            )}
            <Button size="sm" variant="secondary" onClick={() => setMode(mode === "password" ? "none" : "password")}>
              {t("staff.setPassword")}
            </Button>
          </div>
        </td>
      </tr>
      {mode !== "none" && (
        <tr className="staff-subrow">
          <td colSpan={6}>
            {mode === "password" ? (
              <PasswordForm staff={staff} onDone={() => setMode("none")} />
            ) : (
              <div className="staff-confirm" role="alertdialog" aria-label={t("staff.deactivate")}>
                <p>{t("staff.confirmDeactivate", { name })}</p>
                <Button
                  size="sm"
                  variant="danger"
                  busy={busy}
                  onClick={() => patch.mutate({ staff, body: { is_active: false } }, { onSettled: () => setMode("none") })}
                >
                  {t("staff.deactivate")}
                </Button>
                <Button size="sm" variant="ghost" onClick={() => setMode("none")}>
                  {t("staff.form.cancel")}
                </Button>
              </div>
            )}
          </td>
        </tr>
      )}
    </>
  );
}

export default function StaffPage() {
  const t = useT();
  const { me } = useAuth();
  const [adding, setAdding] = useState(false);
  const [role, setRole] = useState<Role | null>(null);
  const [active, setActive] = useState<boolean | null>(null);
  const list = useQuery({
    queryKey: keys.list(role, active),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/staff", { params: { query: { role, active } }, signal })),
  });
  return (
    <div className="staff" data-testid="staff">
      <PageHeader
        title={t("staff.title")}
        actions={
          !adding && (
            <Button onClick={() => setAdding(true)} data-testid="staff-add">
              {t("staff.add")}
            </Button>
          )
        }
      />
      {adding && <AddForm onDone={() => setAdding(false)} />}
      <div className="staff-filters">
        <Select
          label={t("staff.filter.role")}
          value={role ?? ""}
          onChange={(e) => setRole((e.target.value || null) as Role | null)}
          options={[{ value: "", label: t("staff.filter.allRoles") }, ...ROLES.map((r) => ({ value: r, label: t(`role.${r}`) }))]}
        />
        <Select
          label={t("staff.filter.active")}
          value={active === null ? "" : String(active)}
          onChange={(e) => setActive(e.target.value === "" ? null : e.target.value === "true")}
          options={[
            { value: "", label: t("staff.filter.all") },
            { value: "true", label: t("staff.filter.activeOnly") },
            { value: "false", label: t("staff.filter.inactiveOnly") },
          ]}
        />
      </div>
      {list.isPending ? (
        <Spinner />
      ) : list.isError ? (
        <ErrorState error={list.error} onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState title={t("staff.list.empty")} />
      ) : (
        <div className="table-scroll">
          <table className="staff-table" data-testid="staff-table">
            <thead>
              <tr>
                <th scope="col">{t("staff.col.name")}</th>
                <th scope="col">{t("staff.col.email")}</th>
                <th scope="col">{t("staff.col.role")}</th>
                <th scope="col">{t("staff.col.status")}</th>
                <th scope="col">{t("staff.col.since")}</th>
                <th scope="col">{t("staff.col.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((s) => (
                <StaffRow key={s.id} staff={s} isMe={me?.id === s.id} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
