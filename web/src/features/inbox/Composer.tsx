import { useRef, useState, type KeyboardEvent } from "react";
import { ApiError, errorMessageKey } from "../../api/errors";
import { useT } from "../../i18n";
import { newIdempotencyKey } from "../../lib/idempotency";
import { useFormat } from "../../lib/useFormat";
import { Button, useToast } from "../../ui";
import { useSendReply, useSuggestion } from "./api";
import { useNow } from "./hooks";
import { composerKey, windowText, type Conversation } from "./logic";

export const REPLY_BOX_ID = "inbox-reply";
const MAX = 8000;

/** The reply box: Messenger's window, the AI's draft, Enter to send. Only for conversation:reply. */
export function Composer({ conversation, name }: { conversation: Conversation; name: string }) {
  const t = useT();
  const f = useFormat();
  const toast = useToast();
  const now = useNow(60_000);
  const [text, setText] = useState("");
  const keyRef = useRef<string | null>(null);
  const send = useSendReply();
  const suggestion = useSuggestion(conversation.id, true);
  const win = windowText(conversation, now);
  const tooLong = text.length > MAX;
  const canSend = win.canReply && text.trim().length > 0 && !tooLong && !send.isPending;

  function submit() {
    if (!canSend) return;
    keyRef.current ??= newIdempotencyKey();
    const body = text;
    send.mutate(
      { id: conversation.id, text: body, key: keyRef.current },
      {
        onSuccess: () => {
          keyRef.current = null;
          setText((current) => (current === body ? "" : current));
          toast({ message: t("inbox.done.sent"), tone: "success", duration: 3000 });
        },
      },
    );
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (composerKey({ key: e.key, shiftKey: e.shiftKey, isComposing: e.nativeEvent.isComposing }) === "send") {
      e.preventDefault();
      submit();
    }
  }

  const draft = suggestion.data;
  const error = send.error;
  const refused = error instanceof ApiError && error.status === 409;

  return (
    <form
      className="inbox-composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
      data-testid="reply-box"
    >
      <p
        className={`inbox-window inbox-window--${win.state}`}
        id="inbox-window-text"
        data-testid="reply-window"
        data-state={win.state}
      >
        {t(win.key, { time: win.time ? f.dateTime(win.time) : "" })}
      </p>
      {draft && draft.text && win.canReply && (
        <div className="inbox-draft" data-testid="ai-draft">
          <div className="inbox-draft__head">
            <span className="inbox-ai-mark">{t("inbox.reply.draft")}</span>
            <Button
              variant="secondary"
              size="sm"
              onClick={() => {
                setText(draft.text);
                keyRef.current = null;
                document.getElementById(REPLY_BOX_ID)?.focus();
              }}
            >
              {t("inbox.reply.useDraft")}
            </Button>
          </div>
          <p className="inbox-draft__text">{draft.text}</p>
          {draft.sources.length > 0 && (
            <p className="inbox-draft__sources">
              {t("inbox.reply.draftSources", {
                list: [...new Set(draft.sources.map((s) => s.title))].join(", "),
              })}
            </p>
          )}
          {draft.warnings.length > 0 && (
            <div className="inbox-draft__warnings" role="note">
              <span>{t("inbox.reply.draftWarnings")}</span>
              <ul>
                {draft.warnings.map((w, i) => (
                  <li key={i}>{w.detail ?? w.reason}</li>
                ))}
              </ul>
            </div>
          )}
        </div>
      )}
      <label className="visually-hidden" htmlFor={REPLY_BOX_ID}>
        {t("inbox.reply.label", { name })}
      </label>
      <textarea
        id={REPLY_BOX_ID}
        className="inbox-composer__input"
        rows={3}
        value={text}
        placeholder={t("inbox.reply.placeholder")}
        disabled={!win.canReply}
        aria-describedby="inbox-window-text inbox-reply-hint"
        aria-invalid={tooLong || undefined}
        onChange={(e) => {
          setText(e.target.value);
          keyRef.current = null;
        }}
        onKeyDown={onKeyDown}
      />
      <div className="inbox-composer__foot">
        <span id="inbox-reply-hint" className="inbox-composer__hint">
          {tooLong ? t("inbox.reply.tooLong") : t("inbox.reply.hint")}
        </span>
        <Button type="submit" disabled={!canSend} busy={send.isPending}>
          {send.isPending ? t("inbox.reply.sending") : t("inbox.reply.send")}
        </Button>
      </div>
      {error && (
        <p className="inbox-composer__error" role="alert">
          {refused && error.detail ? t("inbox.reply.refused", { reason: error.detail }) : t(errorMessageKey(error))}
        </p>
      )}
    </form>
  );
}
