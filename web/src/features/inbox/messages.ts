/**
 * The inbox area's labels. `en` is the source of keys; `th` must have every one (a type error
 * otherwise). Keys start with "inbox." so areas never collide; they join the app's dictionaries in
 * src/i18n/en.ts and th.ts.
 */
export const en = {
};

export const th: Record<keyof typeof en, string> = {
};
