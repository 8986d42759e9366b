import { useMemo } from "react";
import { useI18n } from "../i18n";
import { formatDate, formatDateTime, formatRelative, formatTHB, formatTime, type DateOptions } from "./format";

/** Formatters bound to the current language: `const f = useFormat(); f.dateTime(order.created_at)`. */
export function useFormat(opts?: DateOptions) {
  const { lang } = useI18n();
  const era = opts?.era;
  return useMemo(
    () => ({
      thb: formatTHB,
      date: (v: string | Date) => formatDate(v, lang, { era }),
      time: (v: string | Date) => formatTime(v, lang),
      dateTime: (v: string | Date) => formatDateTime(v, lang, { era }),
      relative: (v: string | Date, now: Date = new Date()) => formatRelative(v, now, lang, { era }),
    }),
    [lang, era],
  );
}
