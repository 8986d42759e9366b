import type { MessageKey } from "../../i18n";
import { useT } from "../../i18n";
import { Badge, type BadgeTone } from "../../ui";
import type { IntegrityOut } from "./api";

const TONE: Record<string, BadgeTone> = { error: "danger", warning: "warning", info: "info" };

/** The integrity checks with something found (the rest passed), worst first. */
export function Integrity({ data }: { data: IntegrityOut }) {
  const t = useT();
  if (data.checks.length === 0) return <p className="dash-muted">{t("dashboards.integrity.notRun")}</p>;
  const order = { error: 0, warning: 1, info: 2 } as const;
  const found = data.checks.filter((c) => c.count > 0).sort((a, b) => order[a.severity] - order[b.severity]);
  if (found.length === 0) return <p className="dash-ok">{t("dashboards.integrity.allClear")}</p>;
  return (
    <ul className="integrity-list" data-testid="integrity-list">
      {found.map((c) => (
        <li key={c.name} className={`integrity integrity--${c.severity}`}>
          <div className="integrity__head">
            <Badge tone={TONE[c.severity] ?? "neutral"}>{t(`dashboards.integrity.severity.${c.severity}`)}</Badge>
            <strong>{t(`dashboards.integrity.check.${c.name}` as MessageKey)}</strong>
            <span>{t("dashboards.integrity.found", { count: c.count })}</span>
          </div>
          <p className="dash-muted small">{c.description}</p>
          {c.examples.length > 0 && (
            <p className="integrity__examples small">
              {t("dashboards.integrity.examples", { ids: c.examples.join(", ") })}
            </p>
          )}
        </li>
      ))}
    </ul>
  );
}
