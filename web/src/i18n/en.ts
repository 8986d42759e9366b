import { en as inboxEn } from "../features/inbox/messages";
import { en as customersEn } from "../features/customers/messages";
import { en as catalogEn } from "../features/catalog/messages";
import { en as dashboardsEn } from "../features/dashboards/messages";
import { en as syncsEn } from "../features/syncs/messages";
import { en as knowledgeEn } from "../features/knowledge/messages";
import { en as staffEn } from "../features/staff/messages";
import { en as auditEn } from "../features/audit/messages";

/**
 * English dictionary: the source of truth for keys. Every key here must exist in th.ts
 * (TypeScript enforces it). Parameters are written {name} and filled by t(key, { name }).
 */
const core = {
  "app.name": "Cooking School CRM",
  "app.loading": "Loading…",
  "app.skipToContent": "Skip to content",

  "nav.menu": "Menu",
  "nav.closeMenu": "Close menu",
  "nav.main": "Main navigation",
  "nav.inbox": "Inbox",
  "nav.customers": "Customers",
  "nav.catalog": "Catalog & orders",
  "nav.dashboards": "Dashboards",
  "nav.syncs": "Marketing syncs",
  "nav.knowledge": "Knowledge base",
  "nav.staff": "Staff",
  "nav.audit": "Audit log",

  "header.signedInAs": "Signed in as {email}",
  "header.signOut": "Sign out",
  "header.language": "Language",

  "role.admin": "Admin",
  "role.manager": "Manager",
  "role.marketer": "Marketer",
  "role.agent": "Agent",
  "role.viewer": "Viewer",

  "live.connected": "Live",
  "live.connecting": "Connecting…",
  "live.reconnecting": "Reconnecting…",
  "live.offline": "Offline",
  "live.connectedHint": "Updates appear as they happen.",
  "live.reconnectingHint": "Lost the live connection; trying again. What you see may be out of date.",
  "live.handoverRequested": "A customer asks for a person (handover requested).",

  "signIn.title": "Sign in",
  "signIn.subtitle": "Staff of the cooking school only.",
  "signIn.email": "E-mail",
  "signIn.password": "Password",
  "signIn.submit": "Sign in",
  "signIn.submitting": "Signing in…",
  "signIn.wrongCredentials": "Wrong e-mail or password.",
  "signIn.tooManyAttempts": "Too many attempts. Wait a few minutes, then try again.",
  "signIn.sessionEnded": "Your session ended. Please sign in again.",

  "common.retry": "Try again",
  "common.close": "Close",
  "common.dismiss": "Dismiss",
  "common.comingSoon": "This page is being built.",
  "common.notAllowedTitle": "Not available for your role",
  "common.notAllowedBody": "Ask a manager if you need access to this page.",
  "common.notFoundTitle": "Page not found",
  "common.notFoundBody": "Use the menu to go to another page.",

  "error.title": "Something went wrong",
  "error.network": "Cannot reach the server. Check the internet connection and try again.",
  "error.unauthorized": "Your session ended. Please sign in again.",
  "error.forbidden": "Your role does not allow this.",
  "error.notFound": "This item no longer exists or was never there.",
  "error.conflict": "Someone changed this at the same time. Reload and try again.",
  "error.validation": "Some fields need correcting.",
  "error.rateLimited": "Too many requests. Wait a moment and try again.",
  "error.unavailable": "The server is busy or being updated. Try again in a minute.",
  "error.server": "The server had a problem. Try again; if it keeps happening, tell an admin.",
  "error.unknown": "Something unexpected happened. Try again.",

  "replyWindow.open": "You can reply until {time}.",
  "replyWindow.humanAgent": "Over 24 hours since the customer wrote: your reply is sent as a staff follow-up (until {time}).",
  "replyWindow.closed": "Cannot reply: the customer last wrote more than 7 days ago. Wait until they write again.",
  "replyWindow.noMessage": "Cannot reply: the customer has not written yet.",

  "page.inbox": "Inbox",
  "page.customers": "Customers",
  "page.catalog": "Catalog & orders",
  "page.dashboards": "Dashboards",
  "page.syncs": "Marketing syncs",
  "page.knowledge": "Knowledge base",
  "page.staff": "Staff",
  "page.audit": "Audit log",
} as const;

/** The app's own keys and every area's (each area keeps its labels in features/<name>/messages.ts). */
export const en = {
  ...core,
  ...inboxEn,
  ...customersEn,
  ...catalogEn,
  ...dashboardsEn,
  ...syncsEn,
  ...knowledgeEn,
  ...staffEn,
  ...auditEn,
};

export type MessageKey = keyof typeof en;
/** Keys that belong to an area (its messages.ts), not to the app's core. */
export type AreaKey =
  | keyof typeof inboxEn
  | keyof typeof customersEn
  | keyof typeof catalogEn
  | keyof typeof dashboardsEn
  | keyof typeof syncsEn
  | keyof typeof knowledgeEn
  | keyof typeof staffEn
  | keyof typeof auditEn;
