/**
 * Messenger reply window for a conversation, from the customer's last message:
 * - "open":        under 24 h → a standard reply; closesAt = last + 24 h
 * - "human_agent": 24 h up to 7 days → the reply goes as a HUMAN_AGENT-tagged follow-up;
 *                  closesAt = last + 7 d
 * - "closed":      7 days or more (or no customer message at all) → cannot send;
 *                  closesAt = when it closed (null if the customer never wrote)
 * Boundaries: exactly 24 h is already "human_agent"; exactly 7 d is already "closed".
 */
export type ReplyWindowState = "open" | "human_agent" | "closed";

export interface ReplyWindow {
  state: ReplyWindowState;
  closesAt: Date | null;
  /** Why it is closed, for the message shown to staff (t("replyWindow.closed" | "replyWindow.noMessage")). */
  reason?: "expired" | "no_customer_message";
}

export const STANDARD_WINDOW_MS = 24 * 60 * 60 * 1000;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export function replyWindow(
  lastCustomerMessageAt: string | Date | null | undefined,
  now: Date,
): ReplyWindow {
  if (lastCustomerMessageAt == null || lastCustomerMessageAt === "") {
    return { state: "closed", closesAt: null, reason: "no_customer_message" };
  }
  const last = new Date(lastCustomerMessageAt);
  if (Number.isNaN(last.getTime())) {
    return { state: "closed", closesAt: null, reason: "no_customer_message" };
  }
  const elapsed = now.getTime() - last.getTime(); // negative (clock skew) counts as just now
  if (elapsed < STANDARD_WINDOW_MS) {
    return { state: "open", closesAt: new Date(last.getTime() + STANDARD_WINDOW_MS) };
  }
  const closesAt = new Date(last.getTime() + HUMAN_AGENT_WINDOW_MS);
  if (elapsed < HUMAN_AGENT_WINDOW_MS) return { state: "human_agent", closesAt };
  return { state: "closed", closesAt, reason: "expired" };
}
