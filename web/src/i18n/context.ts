import { createContext, useContext } from "react";
import type { MessageKey } from "./en";
import type { Lang, Params } from "./translate";

export interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, params?: Params) => string;
}

export const I18nContext = createContext<I18n | null>(null);

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error("useI18n must be used inside <I18nProvider>");
  return ctx;
}

/** `const t = useT(); t("nav.inbox")` — every label in the app goes through this. */
export function useT(): I18n["t"] {
  return useI18n().t;
}
