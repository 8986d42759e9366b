import { useState } from "react";
import { Link } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { errorMessageKey } from "../../api/errors";
import { useCan } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, ErrorState, Spinner, TextField, useToast, type BadgeTone } from "../../ui";
import { keys, useDuplicates, useErasureRequest, useErasureRequests, type ErasureRequest } from "./api";
import { displayNameOf, exportFileName } from "./logic";
import { downloadExport, mergeInto, requestErasure } from "./mutations";
import { Card } from "./parts";

export function DuplicatesCard({ customerId }: { customerId: string }) {
  const t = useT();
  const toast = useToast();
  const qc = useQueryClient();
  const canMerge = useCan("customer:merge");
  const dups = useDuplicates(customerId, true);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const merge = async (other: string) => {
    setBusy(true);
    setError(null);
    try {
      await mergeInto(customerId, other);
      toast({ message: t("customers.dup.merged", { other }), tone: "success" });
      setConfirming(null);
      void qc.invalidateQueries({ queryKey: ["customers"] });
    } catch (err) {
      setError(t(errorMessageKey(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t("customers.dup.title")} testId="duplicates-card">
      {dups.isPending ? (
        <Spinner />
      ) : dups.isError ? (
        <ErrorState error={dups.error} onRetry={() => void dups.refetch()} />
      ) : dups.data.length === 0 ? (
        <p className="muted">{t("customers.dup.none")}</p>
      ) : (
        <ul className="dups">
          {dups.data.map((d) => {
            const other = d.customer.customer_id;
            return (
              <li key={other} className="dup">
                <div className="dup__head">
                  <Link to={`/customers/${encodeURIComponent(other)}`}>{displayNameOf(d.customer) ?? t("customers.noName")}</Link>
                  <span className="muted small">{other}</span>
                </div>
                <div className="dup__why">
                  {d.same_phone && <Badge tone="warning">{t("customers.dup.samePhone")}</Badge>}
                  {d.same_email && <Badge tone="warning">{t("customers.dup.sameEmail")}</Badge>}
                  {d.name_similarity > 0 && (
                    <Badge>{t("customers.dup.similarName", { percent: Math.round(d.name_similarity * 100) })}</Badge>
                  )}
                </div>
                {canMerge &&
                  (confirming === other ? (
                    <div className="confirm" role="alertdialog" aria-labelledby={`merge-${other}`}>
                      <h3 id={`merge-${other}`} className="confirm__title">
                        {t("customers.dup.confirmTitle", { other, id: customerId })}
                      </h3>
                      <p>{t("customers.dup.confirmBody", { other, id: customerId })}</p>
                      {error && (
                        <p className="field__error" role="alert">
                          {error}
                        </p>
                      )}
                      <div className="form-actions">
                        <Button variant="secondary" size="sm" disabled={busy} onClick={() => setConfirming(null)}>
                          {t("customers.dup.cancel")}
                        </Button>
                        <Button variant="danger" size="sm" busy={busy} onClick={() => void merge(other)}>
                          {t("customers.dup.confirm")}
                        </Button>
                      </div>
                    </div>
                  ) : (
                    <Button variant="secondary" size="sm" onClick={() => { setError(null); setConfirming(other); }}>
                      {t("customers.dup.merge")}
                    </Button>
                  ))}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

export function PdpaCard({ customerId }: { customerId: string }) {
  const t = useT();
  const canExport = useCan("customer:export");
  const canErase = useCan("customer:erase");
  if (!canExport && !canErase) return null;
  return (
    <Card title={t("customers.pdpa.title")} testId="pdpa-card">
      {canExport && <ExportButton customerId={customerId} />}
      {canErase && <Erasure customerId={customerId} />}
    </Card>
  );
}

function ExportButton({ customerId }: { customerId: string }) {
  const t = useT();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    const file = exportFileName(customerId);
    try {
      await downloadExport(customerId, file);
      toast({ message: t("customers.pdpa.exported", { file }), tone: "success" });
    } catch (err) {
      toast({ message: t(errorMessageKey(err)), tone: "danger" });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="pdpa-row">
      <Button variant="secondary" busy={busy} onClick={() => void run()}>
        {t("customers.pdpa.export")}
      </Button>
    </div>
  );
}

function Erasure({ customerId }: { customerId: string }) {
  const t = useT();
  const qc = useQueryClient();
  const requests = useErasureRequests(customerId, true);
  const [started, setStarted] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const latest = requests.data?.items[0] ?? null;
  const requestId = started ?? latest?.id ?? null;

  const erase = async () => {
    setBusy(true);
    setError(null);
    try {
      const req = await requestErasure(customerId);
      setStarted(req.id);
      setOpen(false);
      void qc.invalidateQueries({ queryKey: keys.one(customerId) });
    } catch (err) {
      setError(t(errorMessageKey(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="pdpa-row">
      {requestId ? (
        <ErasureProgress requestId={requestId} />
      ) : open ? (
        <form
          className="confirm"
          role="alertdialog"
          aria-labelledby="erase-title"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim() === customerId) void erase();
          }}
        >
          <h3 id="erase-title" className="confirm__title">
            {t("customers.pdpa.eraseTitle", { id: customerId })}
          </h3>
          <p>{t("customers.pdpa.eraseBody")}</p>
          <TextField
            label={t("customers.pdpa.eraseConfirmLabel", { id: customerId })}
            value={typed}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setTyped(e.target.value)}
          />
          {error && (
            <p className="field__error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <Button variant="secondary" disabled={busy} onClick={() => setOpen(false)}>
              {t("customers.pdpa.cancel")}
            </Button>
            <Button type="submit" variant="danger" busy={busy} disabled={typed.trim() !== customerId}>
              {t("customers.pdpa.eraseConfirm")}
            </Button>
          </div>
        </form>
      ) : (
        <Button
          variant="danger"
          onClick={() => {
            setTyped("");
            setOpen(true);
          }}
        >
          {t("customers.pdpa.erase")}
        </Button>
      )}
    </div>
  );
}

const STEP_TONE: Record<string, BadgeTone> = { pending: "warning", completed: "success", failed: "danger" };

function ErasureProgress({ requestId }: { requestId: string }) {
  const t = useT();
  const f = useFormat();
  const req = useErasureRequest(requestId);
  if (req.isPending) return <Spinner />;
  if (req.isError) return <ErrorState error={req.error} onRetry={() => void req.refetch()} />;
  const r: ErasureRequest = req.data;
  return (
    <div className="erasure" data-testid="erasure-progress" aria-live="polite">
      <h3 className="confirm__title">{t("customers.pdpa.progress")}</h3>
      <p className="muted small">{t("customers.pdpa.requestedAt", { time: f.dateTime(r.requested_at) })}</p>
      <ul className="erasure__steps">
        {r.steps.map((s) => {
          const counts = Object.entries(s.erased)
            .map(([k, n]) => `${k.replace(/_/g, " ")} ${n}`)
            .join(", ");
          return (
            <li key={s.service} className="erasure__step">
              <span className="erasure__service">{s.service}</span>
              <Badge tone={STEP_TONE[s.status] ?? "neutral"}>{t(`customers.pdpa.step.${s.status}`)}</Badge>
              {counts && <span className="muted small">{t("customers.pdpa.erasedCounts", { counts })}</span>}
              {s.detail && <span className="field__error">{s.detail}</span>}
            </li>
          );
        })}
      </ul>
      <p role="status">
        {r.completed_at ? t("customers.pdpa.completedAt", { time: f.dateTime(r.completed_at) }) : t("customers.pdpa.inProgress")}
      </p>
    </div>
  );
}
