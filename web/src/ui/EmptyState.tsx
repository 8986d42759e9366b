import type { ReactNode } from "react";

/** Nothing to show: say why, and what to do (`action`, e.g. a button). */
export function EmptyState({ title, body, action }: { title: string; body?: string; action?: ReactNode }) {
  return (
    <div className="state">
      <h2 className="state__title">{title}</h2>
      {body && <p className="state__body">{body}</p>}
      {action && <div className="state__action">{action}</div>}
    </div>
  );
}
