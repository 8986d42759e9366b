import { useT } from "../i18n";

/** A loading indicator. `decorative` when a nearby text already says what is loading. */
export function Spinner({ size = "md", decorative = false }: { size?: "sm" | "md"; decorative?: boolean }) {
  const t = useT();
  return (
    <span
      className={`spinner spinner--${size}`}
      role={decorative ? undefined : "status"}
      aria-hidden={decorative || undefined}
      aria-label={decorative ? undefined : t("app.loading")}
    />
  );
}
