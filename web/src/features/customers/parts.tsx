import type { ReactNode } from "react";
import type { components } from "../../api/client";
import { useT } from "../../i18n";
import { Badge } from "../../ui";
import { temperatureTone } from "./logic";

type Lead = components["schemas"]["Lead"];

/** "72 · Hot" with the temperature's colour; "Not scored yet" before the AI scored. */
export function LeadBadge({ lead, hideScore = false }: { lead: Lead | null; hideScore?: boolean }) {
  const t = useT();
  if (!lead) return <span className="muted">{t("customers.notScored")}</span>;
  return (
    <span className="lead-badge">
      {!hideScore && <span className="lead-badge__score">{lead.score}</span>}
      <Badge tone={temperatureTone(lead.temperature)}>{t(`customers.temp.${lead.temperature}`)}</Badge>
    </span>
  );
}

/** A titled section of the 360. */
export function Card({ title, children, actions, testId }: { title: string; children: ReactNode; actions?: ReactNode; testId?: string }) {
  return (
    <section className="c-card" aria-label={title} data-testid={testId}>
      <div className="c-card__head">
        <h2 className="c-card__title">{title}</h2>
        {actions && <div className="c-card__actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** Label/value pairs. */
export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {rows.map(([k, v]) => (
        <div className="facts__row" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
