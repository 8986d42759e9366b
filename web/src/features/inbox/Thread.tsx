import { useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { useAuth, useCan } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, ErrorState, Spinner, useToast } from "../../ui";
import { errorMessageKey } from "../../api/errors";
import { useConversationAction, useMarkRead, useThread, type ConversationAction } from "./api";
import { Avatar } from "./Avatar";
import { Composer } from "./Composer";
import { CustomerPanel } from "./CustomerPanel";
import { PHONE_QUERY, useMediaQuery } from "./hooks";
import { MessageItem } from "./MessageItem";
import { customerName, groupByDay, handoverReasonKey, threadMessages, type Conversation } from "./logic";

const DONE_KEY = {
  takeOver: "inbox.done.takenOver",
  handBack: "inbox.done.handedBack",
  assignToMe: "inbox.done.assigned",
  unassign: "inbox.done.unassigned",
} as const;

function Actions({ conversation }: { conversation: Conversation }) {
  const t = useT();
  const toast = useToast();
  const { me } = useAuth();
  const canReply = useCan("conversation:reply");
  const canManage = useCan("conversation:manage");
  const action = useConversationAction(me?.id);
  if (!canReply || !me) return null;
  const assigned = conversation.assigned_staff_id ?? null;
  const mine = assigned === me.id;
  const mayAct = assigned == null || mine || canManage;
  const run = (a: ConversationAction) =>
    action.mutate(
      { id: conversation.id, action: a },
      {
        onSuccess: () => toast({ message: t(DONE_KEY[a]), tone: "success", duration: 3000 }),
        onError: (err) => toast({ message: t(errorMessageKey(err)), tone: "danger" }),
      },
    );
  const busy = (a: ConversationAction) => action.isPending && action.variables?.action === a;
  return (
    <div className="inbox-actions" role="group" aria-label={t("inbox.actions")}>
      {conversation.mode === "ai" && !mine && mayAct && (
        <Button size="sm" busy={busy("takeOver")} disabled={action.isPending} onClick={() => run("takeOver")} title={t("inbox.takeOverHint")}>
          {t("inbox.takeOver")}
        </Button>
      )}
      {conversation.mode === "human" && mayAct && (
        <Button size="sm" variant="secondary" busy={busy("handBack")} disabled={action.isPending} onClick={() => run("handBack")}>
          {t("inbox.handBack")}
        </Button>
      )}
      {!mine && mayAct && conversation.mode === "human" && (
        <Button size="sm" variant="secondary" busy={busy("assignToMe")} disabled={action.isPending} onClick={() => run("assignToMe")}>
          {t("inbox.assignToMe")}
        </Button>
      )}
      {assigned != null && (mine || canManage) && (
        <Button size="sm" variant="ghost" busy={busy("unassign")} disabled={action.isPending} onClick={() => run("unassign")}>
          {t("inbox.unassign")}
        </Button>
      )}
    </div>
  );
}

export function Thread({
  id,
  onBack,
  staffNames,
}: {
  id: string;
  onBack: () => void;
  staffNames: Map<string, string>;
}) {
  const t = useT();
  const f = useFormat();
  const { me } = useAuth();
  const canReply = useCan("conversation:reply");
  const canReadCustomers = useCan("customer:read");
  const phone = useMediaQuery(PHONE_QUERY);
  const q = useThread(id);
  const markRead = useMarkRead();
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const heightBeforeOlder = useRef<number | null>(null);

  const conversation = q.data?.pages[0]?.conversation ?? null;
  const messages = useMemo(() => threadMessages(q.data?.pages.map((p) => p.messages) ?? []), [q.data]);
  const groups = useMemo(() => groupByDay(messages), [messages]);
  const newestId = messages[messages.length - 1]?.id;
  const oldestId = messages[0]?.id;

  // Mark as read when opened, and again when more arrives while it is open.
  const unread = conversation?.unread_count ?? 0;
  const { mutate: markReadMutate } = markRead;
  useEffect(() => {
    if (unread > 0) markReadMutate(id);
  }, [id, unread, markReadMutate]);

  // A newly opened conversation starts at the newest message.
  useEffect(() => {
    stickToBottom.current = true;
  }, [id]);

  // Keep the newest in view (unless staff scrolled up to read older ones).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !newestId) return;
    if (stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [newestId, id]);

  // Older messages were added above: keep what staff were reading where it was.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || heightBeforeOlder.current == null) return;
    el.scrollTop += el.scrollHeight - heightBeforeOlder.current;
    heightBeforeOlder.current = null;
  }, [oldestId]);

  const loadOlder = () => {
    if (!q.hasNextPage || q.isFetchingNextPage) return;
    heightBeforeOlder.current = scroller.current?.scrollHeight ?? null;
    void q.fetchNextPage();
  };

  if (q.isPending) {
    return (
      <div className="inbox-thread inbox-thread--loading">
        <Spinner />
      </div>
    );
  }
  if (q.isError || !conversation) {
    return (
      <div className="inbox-thread">
        <div className="inbox-thread__header">
          <button type="button" className="inbox-back" onClick={onBack}>
            ← {t("inbox.back")}
          </button>
        </div>
        <ErrorState error={q.error} onRetry={() => void q.refetch()} />
      </div>
    );
  }

  const name = customerName(conversation) ?? t("inbox.noName");

  return (
    <div className="inbox-thread" data-testid="thread" data-conversation-id={conversation.id}>
      <header className="inbox-thread__header">
        <button type="button" className="inbox-back" onClick={onBack} aria-label={t("inbox.back")}>
          ←
        </button>
        <Avatar name={customerName(conversation)} src={conversation.profile_pic} size="lg" />
        <div className="inbox-thread__who">
          <h2 className="inbox-thread__name" data-testid="thread-name">
            {name}
          </h2>
          <div className="inbox-thread__badges">
            <Badge tone={conversation.mode === "ai" ? "info" : "success"}>
              {t(conversation.mode === "ai" ? "inbox.mode.ai" : "inbox.mode.human")}
            </Badge>
            {conversation.needs_human && <span className="inbox-needs">{t("inbox.needsHuman")}</span>}
            <span className="inbox-muted">
              {conversation.assigned_staff_id == null
                ? t("inbox.unassigned")
                : conversation.assigned_staff_id === me?.id
                  ? t("inbox.assignedToMe")
                  : t("inbox.assignedTo", { name: staffNames.get(conversation.assigned_staff_id) ?? "…" })}
            </span>
            {conversation.handover_reason && conversation.needs_human && (
              <span className="inbox-muted inbox-thread__reason">{t("inbox.handoverReason", {
                  reason: (() => {
                    const key = handoverReasonKey(conversation.handover_reason);
                    return key ? t(key) : conversation.handover_reason;
                  })(),
                })}</span>
            )}
          </div>
        </div>
        <Actions conversation={conversation} />
      </header>
      <div className="inbox-thread__body">
        <div className="inbox-thread__main">
          <div
            className="inbox-messages"
            ref={scroller}
            tabIndex={0}
            role="region"
            aria-label={t("inbox.thread", { name })}
            onScroll={(e) => {
              const el = e.currentTarget;
              stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
              if (el.scrollTop < 40) loadOlder();
            }}
          >
            <div className="inbox-messages__top">
              {q.hasNextPage ? (
                <Button variant="ghost" size="sm" busy={q.isFetchingNextPage} onClick={loadOlder}>
                  {t("inbox.loadOlder")}
                </Button>
              ) : messages.length > 0 ? (
                <span className="inbox-muted">{t("inbox.startOfThread")}</span>
              ) : null}
            </div>
            {messages.length === 0 && <p className="inbox-muted inbox-center">{t("inbox.noMessages")}</p>}
            {groups.map((g) => (
              <section key={g.day} className="inbox-day" aria-label={f.date(g.messages[0]!.sent_at ?? g.messages[0]!.created_at)}>
                <h3 className="inbox-day__label">{f.date(g.messages[0]!.sent_at ?? g.messages[0]!.created_at)}</h3>
                <ol className="inbox-day__messages">
                  {g.messages.map((m) => (
                    <MessageItem key={m.id} message={m} meId={me?.id} staffNames={staffNames} />
                  ))}
                </ol>
              </section>
            ))}
          </div>
          {canReply && <Composer key={conversation.id} conversation={conversation} name={name} />}
        </div>
        {canReadCustomers && (
          <aside className="inbox-thread__side">
            {phone ? (
              <details className="inbox-side-details">
                <summary>{t("inbox.customer.title")}</summary>
                <CustomerPanel psid={conversation.psid} enabled />
              </details>
            ) : (
              <CustomerPanel psid={conversation.psid} enabled />
            )}
          </aside>
        )}
      </div>
    </div>
  );
}
