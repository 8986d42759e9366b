import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { attachmentView, deliveryOf, messageAt, payloadChips, senderOf, type Message, type Sender } from "./logic";

const SENDER_KEY = {
  customer: "inbox.sender.customer",
  ai: "inbox.sender.ai",
  me: "inbox.sender.me",
  staff: "inbox.sender.staff",
  page_inbox: "inbox.sender.pageInbox",
  unknown: "inbox.sender.unknown",
} as const;

function Ticks({ n, read }: { n: 0 | 1 | 2; read: boolean }) {
  if (n === 0) return null;
  return (
    <span className={`inbox-ticks${read ? " inbox-ticks--read" : ""}`} aria-hidden="true">
      {n === 2 ? "✓✓" : "✓"}
    </span>
  );
}

export function MessageItem({
  message,
  meId,
  staffNames,
}: {
  message: Message;
  meId: string | undefined;
  staffNames: Map<string, string>;
}) {
  const t = useT();
  const f = useFormat();
  const sender: Sender = senderOf(message, meId);
  const at = messageAt(message);
  const delivery = deliveryOf(message);
  const staffName = message.staff_id ? staffNames.get(message.staff_id) : undefined;
  const senderLabel =
    sender === "staff" && staffName ? t("inbox.sender.staffNamed", { name: staffName }) : t(SENDER_KEY[sender]);
  const outgoing = sender !== "customer";
  const chips = payloadChips(message);
  const reactions = message.reactions ?? [];
  const sources = message.sources ?? [];

  return (
    <li
      className={`inbox-msg inbox-msg--${outgoing ? "out" : "in"} inbox-msg--${sender}${delivery?.state === "failed" ? " inbox-msg--failed" : ""}`}
      data-testid="message"
      data-sender={sender}
      data-message-id={message.id}
    >
      <div className="inbox-msg__meta">
        {sender === "ai" ? (
          <span className="inbox-ai-mark" data-testid="ai-mark">
            {t("inbox.sender.ai")}
          </span>
        ) : sender === "page_inbox" ? (
          <span className="inbox-page-mark" title={t("inbox.sender.pageInboxTitle")}>
            {senderLabel}
          </span>
        ) : (
          <span className="inbox-msg__sender">{senderLabel}</span>
        )}
        <time dateTime={at} title={f.dateTime(at)}>
          {f.time(at)}
        </time>
      </div>
      <div className="inbox-msg__bubble">
        {message.text && <p className="inbox-msg__text">{message.text}</p>}
        {(message.attachments ?? []).map((a, i) => {
          const view = attachmentView(a, message.kind);
          if (view === "image" || view === "sticker")
            return (
              <img
                key={i}
                className={view === "sticker" ? "inbox-msg__sticker" : "inbox-msg__image"}
                src={a.url!}
                alt={t(view === "sticker" ? "inbox.attachment.sticker" : "inbox.attachment.image")}
                loading="lazy"
                referrerPolicy="no-referrer"
              />
            );
          if (view === "link")
            return (
              <a key={i} className="inbox-msg__file" href={a.url!} target="_blank" rel="noopener noreferrer">
                {t("inbox.attachment.file", { type: a.type })}
              </a>
            );
          return (
            <span key={i} className="inbox-msg__file inbox-msg__file--missing">
              {t("inbox.attachment.noUrl", { type: a.type })}
            </span>
          );
        })}
        {chips.length > 0 && (
          <ul className="inbox-chips">
            {chips.map((c) => (
              <li key={c.kind} className="inbox-chip">
                {t(c.kind === "quick_reply" ? "inbox.chip.quickReply" : "inbox.chip.postback", { payload: c.payload })}
              </li>
            ))}
          </ul>
        )}
        {sender === "ai" && sources.length > 0 && (
          <div className="inbox-msg__sources" data-testid="ai-sources">
            <span>{t("inbox.aiSources")}</span>
            <ul>
              {sources.map((s, i) => (
                <li key={`${s.document_id}-${i}`}>{[s.title, ...(s.heading_path ?? [])].join(" › ")}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {reactions.length > 0 && (
        <div className="inbox-msg__reactions" aria-label={t("inbox.reactions", { list: reactions.map((r) => r.emoji ?? r.reaction).join(" ") })}>
          {reactions.map((r, i) => (
            <span key={i} title={r.reaction}>
              {r.emoji ?? r.reaction}
            </span>
          ))}
        </div>
      )}
      {delivery && delivery.state === "failed" ? (
        <p className="inbox-msg__error" role="status" data-testid="not-delivered">
          {message.error_reason
            ? t("inbox.notDelivered", { reason: message.error_reason })
            : t("inbox.notDeliveredNoReason")}
        </p>
      ) : delivery ? (
        <p className={`inbox-msg__status inbox-msg__status--${delivery.state}`} data-testid="delivery">
          <Ticks n={delivery.ticks} read={delivery.state === "read"} />
          {delivery.state === "other"
            ? t("inbox.status.other", { status: message.status })
            : delivery.at
              ? t("inbox.status.at", { status: t(delivery.label), time: f.time(delivery.at) })
              : t(delivery.label)}
        </p>
      ) : null}
    </li>
  );
}
