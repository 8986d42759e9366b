import { ApiError, errorMessageKey } from "../api/errors";
import { useT } from "../i18n";
import { Button } from "./Button";

/**
 * A failed load, in words staff understand (never raw JSON or a stack trace), with a retry.
 *   if (query.isError) return <ErrorState error={query.error} onRetry={() => query.refetch()} />;
 */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  const detail = error instanceof ApiError && error.kind === "validation" ? error.detail : undefined;
  return (
    <div className="state state--error" role="alert">
      <h2 className="state__title">{t("error.title")}</h2>
      <p className="state__body">{t(errorMessageKey(error))}</p>
      {detail && <p className="state__detail">{detail}</p>}
      {onRetry && (
        <div className="state__action">
          <Button variant="secondary" onClick={onRetry}>
            {t("common.retry")}
          </Button>
        </div>
      )}
    </div>
  );
}
