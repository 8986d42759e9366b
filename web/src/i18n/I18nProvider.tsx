import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";
import { I18nContext } from "./context";
import { LANG_STORAGE_KEY, initialLang, translate, type Lang } from "./translate";
import type { MessageKey } from "./en";

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(LANG_STORAGE_KEY, next);
    } catch {
      /* storage may be blocked */
    }
  }, []);

  const value = useMemo(
    () => ({
      lang,
      setLang,
      t: (key: MessageKey, params?: Record<string, string | number>) => translate(lang, key, params),
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}
