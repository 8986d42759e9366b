import { describe, expect, it } from "vitest";
import { en, th } from "./messages";
import {
  adOf,
  attachmentView,
  composerKey,
  customerName,
  deliveryOf,
  filterParams,
  FILTERS,
  groupByDay,
  handoverReasonKey,
  initials,
  isTypingTarget,
  neighbour,
  orderConversations,
  parseFilter,
  payloadChips,
  relativeBase,
  senderOf,
  shortcutFor,
  threadMessages,
  windowText,
  type Conversation,
  type CustomerView,
  type Message,
} from "./logic";

function conv(over: Partial<Conversation> = {}): Conversation {
  return {
    id: "c1",
    page_id: "p",
    psid: "1",
    status: "open",
    mode: "ai",
    needs_human: false,
    unread_count: 0,
    reply_window: { can_reply: true, messaging_type: "RESPONSE", closes_at: "2026-12-02T10:00:00Z" },
    created_at: "2026-12-01T00:00:00Z",
    ...over,
  };
}

function msg(over: Partial<Message> = {}): Message {
  return {
    id: "m1",
    direction: "in",
    kind: "text",
    status: "received",
    created_at: "2026-12-01T10:00:00Z",
    ...over,
  };
}

describe("filters", () => {
  it("maps each tab to the API's query", () => {
    expect(filterParams("needs")).toEqual({ needs_human: true });
    expect(filterParams("mine")).toEqual({ assigned: "me" });
    expect(filterParams("unassigned")).toEqual({ assigned: "unassigned" });
    expect(filterParams("ai")).toEqual({ mode: "ai" });
    expect(filterParams("all")).toEqual({});
  });
  it("reads the tab from the URL, defaulting to Needs a person", () => {
    for (const f of FILTERS) expect(parseFilter(f)).toBe(f);
    expect(parseFilter(null)).toBe("needs");
    expect(parseFilter("bogus")).toBe("needs");
  });
});

describe("names", () => {
  it("joins first and last names, or gives null for the placeholder", () => {
    expect(customerName({ first_name: "Somchai", last_name: "Jaidee" })).toBe("Somchai Jaidee");
    expect(customerName({ first_name: " สมชาย ", last_name: null })).toBe("สมชาย");
    expect(customerName({ first_name: null, last_name: "" })).toBeNull();
  });
  it("makes initials from any script", () => {
    expect(initials("Somchai Jaidee")).toBe("SJ");
    expect(initials("สมชาย")).toBe("ส");
    expect(initials(null)).toBe("?");
  });
});

describe("conversation order", () => {
  it("puts the newest activity first and keeps each conversation once", () => {
    const a = conv({ id: "a", last_message_at: "2026-12-01T10:00:00Z" });
    const b = conv({ id: "b", last_message_at: "2026-12-01T12:00:00Z" });
    const c = conv({ id: "c", last_message_at: null, created_at: "2026-12-01T11:00:00Z" });
    expect(orderConversations([[a, b], [b, c]]).map((x) => x.id)).toEqual(["b", "c", "a"]);
  });
  it("moves with j/k and stays at the ends", () => {
    const ids = ["a", "b", "c"];
    expect(neighbour(ids, null, 1)).toBe("a");
    expect(neighbour(ids, null, -1)).toBe("c");
    expect(neighbour(ids, "a", 1)).toBe("b");
    expect(neighbour(ids, "a", -1)).toBe("a");
    expect(neighbour(ids, "c", 1)).toBe("c");
    expect(neighbour(ids, "gone", 1)).toBe("a");
    expect(neighbour([], "a", 1)).toBeNull();
  });
});

describe("thread messages", () => {
  it("joins pages (latest first, each oldest first) into one oldest-first list without duplicates", () => {
    const m1 = msg({ id: "1", sent_at: "2026-12-01T09:00:00Z" });
    const m2 = msg({ id: "2", sent_at: "2026-12-01T09:05:00Z" });
    const m3 = msg({ id: "3", sent_at: "2026-12-01T09:10:00Z" });
    const m4 = msg({ id: "4", sent_at: null, created_at: "2026-12-01T09:20:00Z", direction: "out" });
    const latest = [m3, m4];
    const older = [m1, m2, m3];
    expect(threadMessages([latest, older]).map((m) => m.id)).toEqual(["1", "2", "3", "4"]);
    expect(threadMessages([latest], [m4, msg({ id: "5", created_at: "2026-12-01T09:30:00Z" })]).map((m) => m.id)).toEqual([
      "3",
      "4",
      "5",
    ]);
  });
  it("groups by the Bangkok day (17:00 UTC is already the next day there)", () => {
    const groups = groupByDay([
      msg({ id: "a", sent_at: "2026-12-01T16:59:00Z" }),
      msg({ id: "b", sent_at: "2026-12-01T17:00:00Z" }),
      msg({ id: "c", sent_at: "2026-12-02T01:00:00Z" }),
    ]);
    expect(groups.map((g) => [g.day, g.messages.map((m) => m.id)])).toEqual([
      ["2026-12-01", ["a"]],
      ["2026-12-02", ["b", "c"]],
    ]);
  });
});

describe("senders and delivery", () => {
  it("tells customer, AI, me, other staff and the Page inbox apart", () => {
    expect(senderOf(msg({ direction: "in", sent_by: "customer" }), "me")).toBe("customer");
    expect(senderOf(msg({ direction: "out", sent_by: "ai" }), "me")).toBe("ai");
    expect(senderOf(msg({ direction: "out", sent_by: "staff", staff_id: "me" }), "me")).toBe("me");
    expect(senderOf(msg({ direction: "out", sent_by: "staff", staff_id: "x" }), "me")).toBe("staff");
    expect(senderOf(msg({ direction: "out", sent_by: "page_inbox" }), "me")).toBe("page_inbox");
    expect(senderOf(msg({ direction: "out", sent_by: null }), "me")).toBe("unknown");
  });
  it("maps a reply's status to a label, ticks and time", () => {
    expect(deliveryOf(msg({ direction: "in" }))).toBeNull();
    const out = (o: Partial<Message>) => deliveryOf(msg({ direction: "out", ...o }));
    expect(out({ status: "pending" })).toMatchObject({ state: "pending", label: "inbox.status.pending", ticks: 0 });
    expect(out({ status: "sent", sent_at: "2026-12-01T10:00:00Z" })).toMatchObject({
      state: "sent",
      ticks: 1,
      at: "2026-12-01T10:00:00Z",
    });
    expect(out({ status: "delivered", delivered_at: "2026-12-01T10:01:00Z" })).toMatchObject({
      state: "delivered",
      ticks: 2,
      at: "2026-12-01T10:01:00Z",
    });
    expect(out({ status: "sent", read_at: "2026-12-01T10:02:00Z" })).toMatchObject({ state: "read", ticks: 2 });
    expect(out({ status: "failed", error_reason: "outside window" })).toMatchObject({
      state: "failed",
      label: "inbox.status.failed",
    });
    expect(out({ status: "weird" })).toMatchObject({ state: "other" });
  });
  it("shows images and stickers as pictures, files as links, and payloads as chips", () => {
    expect(attachmentView({ type: "image", url: "https://x/a.jpg" })).toBe("image");
    expect(attachmentView({ type: "image", url: "https://x/s.png" }, "sticker")).toBe("sticker");
    expect(attachmentView({ type: "file", url: "https://x/a.pdf" })).toBe("link");
    expect(attachmentView({ type: "fallback", url: null })).toBe("none");
    expect(payloadChips(msg({ quick_reply_payload: "BOOK_SUSHI", postback_payload: "GET_STARTED" }))).toEqual([
      { kind: "quick_reply", payload: "BOOK_SUSHI" },
      { kind: "postback", payload: "GET_STARTED" },
    ]);
  });
});

describe("reply window text", () => {
  const now = new Date("2026-12-01T12:00:00Z");
  it("uses the server's window: a normal reply until closes_at", () => {
    const w = windowText(conv({ last_customer_message_at: "2026-12-01T10:00:00Z" }), now);
    expect(w).toEqual({ state: "open", key: "inbox.window.open", time: "2026-12-02T10:00:00Z", canReply: true });
  });
  it("after 24 h: a HUMAN_AGENT follow-up until closes_at", () => {
    const w = windowText(
      conv({
        last_customer_message_at: "2026-11-29T10:00:00Z",
        reply_window: { can_reply: true, messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT", closes_at: "2026-12-06T10:00:00Z" },
      }),
      now,
    );
    expect(w).toMatchObject({ state: "human_agent", key: "inbox.window.humanAgent", time: "2026-12-06T10:00:00Z", canReply: true });
  });
  it("after 7 days: closed, with the reason", () => {
    const w = windowText(
      conv({ last_customer_message_at: "2026-11-20T10:00:00Z", reply_window: { can_reply: false, closes_at: "2026-11-27T10:00:00Z" } }),
      now,
    );
    expect(w).toMatchObject({ state: "closed", key: "inbox.window.closed", canReply: false });
    const never = windowText(conv({ last_customer_message_at: null, reply_window: { can_reply: false } }), now);
    expect(never).toMatchObject({ state: "closed", key: "inbox.window.noMessage" });
  });
  it("falls back to the customer's last message when the server gives no window", () => {
    const c = conv({ last_customer_message_at: "2026-11-29T10:00:00Z" }) as Conversation;
    (c as { reply_window?: unknown }).reply_window = undefined;
    expect(windowText(c, now)).toMatchObject({ state: "human_agent", time: "2026-12-06T10:00:00.000Z" });
  });
});

describe("keyboard", () => {
  it("maps keys to shortcuts, not with modifiers", () => {
    expect(shortcutFor({ key: "j" })).toBe("next");
    expect(shortcutFor({ key: "k" })).toBe("previous");
    expect(shortcutFor({ key: "r" })).toBe("reply");
    expect(shortcutFor({ key: "?" })).toBe("help");
    expect(shortcutFor({ key: "Escape" })).toBe("back");
    expect(shortcutFor({ key: "r", ctrlKey: true })).toBeNull();
    expect(shortcutFor({ key: "x" })).toBeNull();
  });
  it("knows when keys go to a field", () => {
    expect(isTypingTarget({ tagName: "TEXTAREA" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "text" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "BUTTON" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
  it("sends on Enter, not Shift+Enter, not while composing", () => {
    expect(composerKey({ key: "Enter" })).toBe("send");
    expect(composerKey({ key: "Enter", shiftKey: true })).toBeNull();
    expect(composerKey({ key: "Enter", isComposing: true })).toBeNull();
    expect(composerKey({ key: "a" })).toBeNull();
  });
});

describe("relative times and handover reasons", () => {
  it("never says 'in a moment' for a time stamped ahead of the browser's clock", () => {
    const now = new Date("2026-12-01T10:00:00Z");
    expect(relativeBase("2026-12-01T09:00:00Z", now)).toBe(now);
    expect(relativeBase("2026-12-01T10:00:02Z", now).toISOString()).toBe("2026-12-01T10:00:02.000Z");
  });
  it("labels the known handover reasons and leaves others as the server's code", () => {
    expect(handoverReasonKey("customer_requested")).toBe("inbox.reason.customer_requested");
    expect(handoverReasonKey("something_new")).toBeNull();
  });
});

describe("customer panel", () => {
  const base = { customer_id: "TVS-CUS-FB-26-0001", channel: "FB", lifecycle_stage: "lead", identities: [], created_at: "", updated_at: "", version: 1 } as CustomerView;
  it("takes the first touch, else the latest, and ignores an empty one", () => {
    expect(adOf({ ...base, first_touch: { ad_id: "123", source: "ADS" } })?.ad_id).toBe("123");
    expect(adOf({ ...base, first_touch: null, latest_touch: { ad_id: "9" } })?.ad_id).toBe("9");
    expect(adOf({ ...base, first_touch: {} })).toBeNull();
  });
});

describe("labels", () => {
  it("has Thai for every key, not copied English (except names like AI)", () => {
    const same = Object.keys(en).filter((k) => th[k as keyof typeof en] === en[k as keyof typeof en]);
    expect(same.sort()).toEqual(["inbox.filter.ai", "inbox.mode.ai", "inbox.sender.ai", "inbox.status.at"]);
    for (const k of Object.keys(en)) expect(k.startsWith("inbox.")).toBe(true);
  });
});
