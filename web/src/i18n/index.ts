export { I18nProvider } from "./I18nProvider";
export { useI18n, useT } from "./context";
export type { MessageKey } from "./en";
export type { Lang, Params } from "./translate";
