import { useCallback, useEffect, useMemo, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { useT } from "../../i18n";
import { EmptyState } from "../../ui";
import { useConversationList, useStaffDirectory } from "./api";
import { ConversationList } from "./ConversationList";
import { PHONE_QUERY, useMediaQuery } from "./hooks";
import { isTypingTarget, neighbour, orderConversations, parseFilter, shortcutFor, type InboxFilter } from "./logic";
import { REPLY_BOX_ID } from "./Composer";
import { ShortcutsDialog } from "./ShortcutsDialog";
import { Thread } from "./Thread";
import "./inbox.css";

/**
 * /inbox and /inbox/:conversationId (the app routes "/inbox/*" here): the list and the open
 * thread side by side on a desktop, one at a time on a phone. The filter tab is `?f=`.
 */
export default function InboxPage() {
  const t = useT();
  const params = useParams();
  const navigate = useNavigate();
  const [search, setSearch] = useSearchParams();
  const filter = parseFilter(search.get("f"));
  const rest = params["*"] ?? params.conversationId ?? "";
  const conversationId = rest.split("/")[0] || null;
  const phone = useMediaQuery(PHONE_QUERY);
  const [help, setHelp] = useState(false);

  const list = useConversationList(filter);
  const conversations = useMemo(() => orderConversations(list.data?.pages.map((p) => p.items) ?? []), [list.data]);
  const directory = useStaffDirectory();
  const staffNames = useMemo(
    () => new Map((directory.data?.items ?? []).map((s) => [s.id, s.name || s.email] as const)),
    [directory.data],
  );

  const query = search.toString();
  const linkTo = useCallback((id: string) => `/inbox/${id}${query ? `?${query}` : ""}`, [query]);
  const toList = useCallback(() => navigate(`/inbox${query ? `?${query}` : ""}`), [navigate, query]);
  const onFilter = useCallback(
    (f: InboxFilter) => {
      const next = new URLSearchParams(search);
      next.set("f", f);
      setSearch(next);
    },
    [search, setSearch],
  );

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.defaultPrevented || isTypingTarget(e.target)) return;
      const action = shortcutFor(e);
      if (!action) return;
      if (help && action !== "help") return; // the dialog handles Esc itself
      if (action === "next" || action === "previous") {
        const id = neighbour(
          conversations.map((c) => c.id),
          conversationId,
          action === "next" ? 1 : -1,
        );
        if (id && id !== conversationId) navigate(linkTo(id));
      } else if (action === "reply") {
        const box = document.getElementById(REPLY_BOX_ID);
        if (box) {
          e.preventDefault();
          box.focus();
        }
      } else if (action === "help") {
        e.preventDefault();
        setHelp((h) => !h);
      } else if (action === "back" && phone && conversationId) {
        toList();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [conversations, conversationId, help, linkTo, navigate, phone, toList]);

  return (
    <div className={`inbox${conversationId ? " inbox--open" : ""}`} data-testid="inbox">
      <div className="inbox__head">
        <h1 className="inbox__title">{t("inbox.title")}</h1>
        <button type="button" className="inbox-help-button" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          {t("inbox.shortcuts.open")}
        </button>
      </div>
      <div className="inbox__panes">
        <div className="inbox__list-pane">
          <ConversationList
            filter={filter}
            onFilter={onFilter}
            query={list}
            conversations={conversations}
            currentId={conversationId}
            linkTo={linkTo}
            staffNames={staffNames}
          />
        </div>
        <div className="inbox__thread-pane">
          {conversationId ? (
            <Thread key={conversationId} id={conversationId} onBack={toList} staffNames={staffNames} />
          ) : (
            <EmptyState title={t("inbox.pick.title")} body={t("inbox.pick.body")} />
          )}
        </div>
      </div>
      <ShortcutsDialog open={help} onClose={() => setHelp(false)} />
    </div>
  );
}
