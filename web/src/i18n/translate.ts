import { en, type MessageKey } from "./en";
import { th } from "./th";

export type Lang = "th" | "en";
export type Params = Record<string, string | number>;

export const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, th };
export const LANG_STORAGE_KEY = "crm.lang";

/** Fills {name} placeholders; an unknown placeholder is left as is so mistakes are visible. */
export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const template = dictionaries[lang][key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Remembered choice, else Thai when the browser language is Thai, else English. */
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(LANG_STORAGE_KEY);
    if (saved === "th" || saved === "en") return saved;
  } catch {
    /* storage may be blocked */
  }
  const nav = typeof navigator !== "undefined" ? navigator.language : "";
  return nav.toLowerCase().startsWith("th") ? "th" : "en";
}
