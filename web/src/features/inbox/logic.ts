/**
 * The inbox's pure logic (no React): filters → query params, names, ordering, message status,
 * the reply window's text, keyboard helpers. Tested in logic.test.ts.
 */
import type { components } from "../../api/schema";
import { bangkokDay } from "../../lib/format";
import { replyWindow } from "../../lib/replyWindow";
import type { en } from "./messages";

export type Conversation = components["schemas"]["Conversation"];
export type Message = components["schemas"]["Message"];
export type Attachment = components["schemas"]["MessageAttachment"];
export type CustomerView = components["schemas"]["CustomerView"];
export type Suggestion = components["schemas"]["Suggestion"];

export type InboxKey = keyof typeof en;

// ---------------------------------------------------------------- filters

export const FILTERS = ["needs", "mine", "unassigned", "ai", "all"] as const;
export type InboxFilter = (typeof FILTERS)[number];

export const FILTER_LABEL: Record<InboxFilter, InboxKey> = {
  needs: "inbox.filter.needs",
  mine: "inbox.filter.mine",
  unassigned: "inbox.filter.unassigned",
  ai: "inbox.filter.ai",
  all: "inbox.filter.all",
};

export const FILTER_EMPTY: Record<InboxFilter, { title: InboxKey; body: InboxKey }> = {
  needs: { title: "inbox.empty.needs.title", body: "inbox.empty.needs.body" },
  mine: { title: "inbox.empty.mine.title", body: "inbox.empty.mine.body" },
  unassigned: { title: "inbox.empty.unassigned.title", body: "inbox.empty.unassigned.body" },
  ai: { title: "inbox.empty.ai.title", body: "inbox.empty.ai.body" },
  all: { title: "inbox.empty.all.title", body: "inbox.empty.all.body" },
};

export function parseFilter(value: string | null | undefined): InboxFilter {
  return (FILTERS as readonly string[]).includes(value ?? "") ? (value as InboxFilter) : "needs";
}

export interface ListParams {
  mode?: "ai" | "human";
  assigned?: string;
  needs_human?: boolean;
}

/** The GET /api/v1/conversations query of a filter tab (`assigned` accepts `me` and `unassigned`). */
export function filterParams(filter: InboxFilter): ListParams {
  switch (filter) {
    case "needs":
      return { needs_human: true };
    case "mine":
      return { assigned: "me" };
    case "unassigned":
      return { assigned: "unassigned" };
    case "ai":
      return { mode: "ai" };
    case "all":
      return {};
  }
}

// ---------------------------------------------------------------- names and ordering

/** "Somchai Jaidee", or null when Messenger gave no name (the UI shows a neutral placeholder). */
export function customerName(c: Pick<Conversation, "first_name" | "last_name">): string | null {
  const name = [c.first_name, c.last_name]
    .map((s) => (s ?? "").trim())
    .filter(Boolean)
    .join(" ");
  return name || null;
}

/** One or two letters for an avatar without a picture. */
export function initials(name: string | null): string {
  if (!name) return "?";
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.slice(0, 2).map((p) => Array.from(p)[0] ?? "");
  return letters.join("").toUpperCase() || "?";
}

function activity(c: Conversation): number {
  const t = Date.parse(c.last_message_at ?? c.created_at);
  return Number.isNaN(t) ? 0 : t;
}

/** Newest activity first, each conversation once (pages may overlap while the list changes). */
export function orderConversations(pages: readonly (readonly Conversation[])[]): Conversation[] {
  const seen = new Map<string, Conversation>();
  for (const page of pages) for (const c of page) if (!seen.has(c.id)) seen.set(c.id, c);
  return [...seen.values()].sort((a, b) => activity(b) - activity(a) || a.id.localeCompare(b.id));
}

/** The id `delta` places away from `current` in the list (j = +1, k = −1); the first when none is open. */
export function neighbour(ids: readonly string[], current: string | null, delta: 1 | -1): string | null {
  if (ids.length === 0) return null;
  const i = current ? ids.indexOf(current) : -1;
  if (i === -1) return delta === 1 ? ids[0]! : ids[ids.length - 1]!;
  const next = Math.min(ids.length - 1, Math.max(0, i + delta));
  return ids[next]!;
}

// ---------------------------------------------------------------- messages

function messageTime(m: Message): number {
  const t = Date.parse(m.sent_at ?? m.created_at);
  return Number.isNaN(t) ? 0 : t;
}

/** The time to show for a message: when it was sent (customer: when they wrote), else stored. */
export function messageAt(m: Message): string {
  return m.sent_at ?? m.created_at;
}

/**
 * The thread's messages oldest first. `pages` are the API's answers in fetch order: the latest
 * page first, then older ones (`before` = next_cursor); each page is oldest first. Duplicates
 * (a message on two pages, or added optimistically) are kept once, the later page's copy
 * winning only when the id was not seen before.
 */
export function threadMessages(pages: readonly (readonly Message[])[], extra: readonly Message[] = []): Message[] {
  const byId = new Map<string, Message>();
  for (const page of pages) for (const m of page) if (!byId.has(m.id)) byId.set(m.id, m);
  for (const m of extra) if (!byId.has(m.id)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => messageTime(a) - messageTime(b) || a.created_at.localeCompare(b.created_at));
}

export interface DayGroup {
  day: string; // YYYY-MM-DD in Bangkok
  messages: Message[];
}

/** Consecutive messages grouped by their Bangkok calendar day (for the day separators). */
export function groupByDay(messages: readonly Message[]): DayGroup[] {
  const groups: DayGroup[] = [];
  for (const m of messages) {
    const day = bangkokDay(messageAt(m));
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.messages.push(m);
    else groups.push({ day, messages: [m] });
  }
  return groups;
}

export type Sender = "customer" | "ai" | "me" | "staff" | "page_inbox" | "unknown";

/** Who wrote it, as staff read it ("me" = the signed-in user). */
export function senderOf(m: Message, meId: string | null | undefined): Sender {
  if (m.direction === "in" || m.sent_by === "customer") return "customer";
  if (m.sent_by === "ai") return "ai";
  if (m.sent_by === "page_inbox") return "page_inbox";
  if (m.sent_by === "staff") return meId && m.staff_id === meId ? "me" : "staff";
  return "unknown";
}

export type DeliveryState = "pending" | "sent" | "delivered" | "read" | "failed" | "other";

export interface DeliveryInfo {
  state: DeliveryState;
  label: InboxKey;
  /** The time the state was reached, when the API has it. */
  at: string | null;
  /** ✓ sent, ✓✓ delivered or read. */
  ticks: 0 | 1 | 2;
}

/** The delivery state of a reply (null for a customer's message). */
export function deliveryOf(m: Message): DeliveryInfo | null {
  if (m.direction === "in") return null;
  const s = m.status;
  if (s === "failed" || m.error_reason) return { state: "failed", label: "inbox.status.failed", at: null, ticks: 0 };
  if (s === "read" || m.read_at) return { state: "read", label: "inbox.status.read", at: m.read_at ?? null, ticks: 2 };
  if (s === "delivered" || m.delivered_at)
    return { state: "delivered", label: "inbox.status.delivered", at: m.delivered_at ?? null, ticks: 2 };
  if (s === "sent") return { state: "sent", label: "inbox.status.sent", at: m.sent_at ?? null, ticks: 1 };
  if (s === "pending" || s === "queued" || s === "sending")
    return { state: "pending", label: "inbox.status.pending", at: null, ticks: 0 };
  return { state: "other", label: "inbox.status.other", at: null, ticks: 0 };
}

export type AttachmentView = "image" | "sticker" | "link" | "none";

/** How an attachment is shown: images and stickers as pictures, others as links, no URL as a label. */
export function attachmentView(a: Attachment, kind?: string): AttachmentView {
  if (!a.url) return "none";
  if (a.type === "sticker" || kind === "sticker") return "sticker";
  if (a.type === "image") return "image";
  return "link";
}

/** Chips under a message: the quick reply or postback payload the customer tapped. */
export function payloadChips(m: Message): { kind: "quick_reply" | "postback"; payload: string }[] {
  const chips: { kind: "quick_reply" | "postback"; payload: string }[] = [];
  if (m.quick_reply_payload) chips.push({ kind: "quick_reply", payload: m.quick_reply_payload });
  if (m.postback_payload) chips.push({ kind: "postback", payload: m.postback_payload });
  return chips;
}

// ---------------------------------------------------------------- reply window

export interface WindowText {
  state: "open" | "human_agent" | "closed";
  key: InboxKey;
  /** ISO time for {time} (format it in Bangkok), when there is one. */
  time: string | null;
  canReply: boolean;
}

/**
 * What the reply box says about Messenger's window. The server's `reply_window` wins
 * (can_reply, messaging_type/tag, closes_at); the customer's last message time is the fallback.
 */
export function windowText(c: Pick<Conversation, "reply_window" | "last_customer_message_at">, now: Date): WindowText {
  const w = c.reply_window;
  const local = replyWindow(c.last_customer_message_at ?? null, now);
  if (w && typeof w.can_reply === "boolean") {
    if (!w.can_reply) {
      const neverWrote = !c.last_customer_message_at;
      return {
        state: "closed",
        key: neverWrote ? "inbox.window.noMessage" : "inbox.window.closed",
        time: w.closes_at ?? local.closesAt?.toISOString() ?? null,
        canReply: false,
      };
    }
    const tagged = w.messaging_type === "MESSAGE_TAG" || w.tag === "HUMAN_AGENT";
    const time = w.closes_at ?? local.closesAt?.toISOString() ?? null;
    return tagged
      ? { state: "human_agent", key: time ? "inbox.window.humanAgent" : "inbox.window.humanAgentNoTime", time, canReply: true }
      : { state: "open", key: time ? "inbox.window.open" : "inbox.window.openNoTime", time, canReply: true };
  }
  const time = local.closesAt?.toISOString() ?? null;
  if (local.state === "open") return { state: "open", key: "inbox.window.open", time, canReply: true };
  if (local.state === "human_agent") return { state: "human_agent", key: "inbox.window.humanAgent", time, canReply: true };
  return {
    state: "closed",
    key: local.reason === "no_customer_message" ? "inbox.window.noMessage" : "inbox.window.closed",
    time,
    canReply: false,
  };
}

/**
 * The "now" for a relative time: a moment the server stamped a little ahead of this browser's
 * clock (or after the last tick) reads "just now", never "in a moment".
 */
export function relativeBase(iso: string, now: Date): Date {
  const t = Date.parse(iso);
  return Number.isNaN(t) || t <= now.getTime() ? now : new Date(t);
}

export const HANDOVER_REASONS = ["customer_requested", "unsupported_amount", "no_relevant_knowledge", "model_needs_human"] as const;

/** The label key of a known handover reason (null: show the server's code as is). */
export function handoverReasonKey(reason: string): InboxKey | null {
  return (HANDOVER_REASONS as readonly string[]).includes(reason) ? (`inbox.reason.${reason}` as InboxKey) : null;
}

// ---------------------------------------------------------------- keyboard

/** True when keys go to a field (shortcuts are off then). */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (!el || typeof el !== "object") return false;
  const node = el as { tagName?: string; isContentEditable?: boolean; type?: string };
  const tag = (node.tagName ?? "").toUpperCase();
  if (node.isContentEditable) return true;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (node.type ?? "text").toLowerCase();
    return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"].includes(type);
  }
  return false;
}

export type ShortcutAction = "next" | "previous" | "reply" | "help" | "back";

/** The inbox shortcut of a key press outside fields (null: not ours). */
export function shortcutFor(e: {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
}): ShortcutAction | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case "j":
      return "next";
    case "k":
      return "previous";
    case "r":
      return "reply";
    case "?":
      return "help";
    case "Escape":
      return "back";
    default:
      return null;
  }
}

/** In the reply box: Enter sends, Shift+Enter is a new line, Ctrl/⌘+Enter also sends; never while composing (IME). */
export function composerKey(e: { key: string; shiftKey?: boolean; isComposing?: boolean }): "send" | null {
  if (e.key !== "Enter" || e.isComposing) return null;
  return e.shiftKey ? null : "send";
}

// ---------------------------------------------------------------- customer panel

/** The customer's name from the CRM (any script), or null. */
export function customerViewName(c: CustomerView): string | null {
  return c.display_name || c.name_th || c.name_latin || c.nickname || null;
}

/** The ad (or link) that started the chat: the first touch, else the latest one. */
export function adOf(c: CustomerView): components["schemas"]["AdReferral"] | null {
  const t = c.first_touch ?? c.latest_touch ?? null;
  if (!t) return null;
  if (!t.ad_id && !t.ad_title && !t.source && !t.ref && !t.post_id) return null;
  return t;
}
