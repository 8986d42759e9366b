import { Link } from "react-router";
import { useAuth } from "../../auth";
import { useT } from "../../i18n";
import { useFormat } from "../../lib/useFormat";
import { Badge, Button, EmptyState, ErrorState, Spinner } from "../../ui";
import type { useConversationList } from "./api";
import { Avatar } from "./Avatar";
import { useNow } from "./hooks";
import {
  customerName,
  FILTER_EMPTY,
  FILTER_LABEL,
  FILTERS,
  relativeBase,
  type Conversation,
  type InboxFilter,
} from "./logic";

type ListQuery = ReturnType<typeof useConversationList>;

export function ConversationList({
  filter,
  onFilter,
  query,
  conversations,
  currentId,
  linkTo,
  staffNames,
}: {
  filter: InboxFilter;
  onFilter: (f: InboxFilter) => void;
  query: ListQuery;
  conversations: Conversation[];
  currentId: string | null;
  linkTo: (id: string) => string;
  staffNames: Map<string, string>;
}) {
  const t = useT();
  const f = useFormat();
  const now = useNow();
  const { me } = useAuth();

  return (
    <section className="inbox-list" aria-labelledby="inbox-list-title">
      <h2 id="inbox-list-title" className="visually-hidden">
        {t("inbox.list")}
      </h2>
      <div className="inbox-tabs" role="tablist" aria-label={t("inbox.filters")}>
        {FILTERS.map((key) => (
          <button
            key={key}
            type="button"
            role="tab"
            id={`inbox-tab-${key}`}
            aria-selected={filter === key}
            aria-controls="inbox-list-panel"
            className={`inbox-tab${filter === key ? " inbox-tab--active" : ""}`}
            onClick={() => onFilter(key)}
          >
            {t(FILTER_LABEL[key])}
          </button>
        ))}
      </div>
      <div id="inbox-list-panel" role="tabpanel" aria-labelledby={`inbox-tab-${filter}`} className="inbox-list__panel">
        {query.isPending ? (
          <ul className="inbox-rows" aria-busy="true" aria-label={t("app.loading")}>
            {[0, 1, 2, 3, 4].map((i) => (
              <li key={i} className="inbox-row inbox-row--skeleton">
                <span className="inbox-avatar inbox-avatar--md skeleton" />
                <span className="inbox-row__skeleton-lines">
                  <span className="skeleton skeleton--line" />
                  <span className="skeleton skeleton--line skeleton--short" />
                </span>
              </li>
            ))}
          </ul>
        ) : query.isError ? (
          <ErrorState error={query.error} onRetry={() => void query.refetch()} />
        ) : conversations.length === 0 ? (
          <EmptyState title={t(FILTER_EMPTY[filter].title)} body={t(FILTER_EMPTY[filter].body)} />
        ) : (
          <>
            <ul className="inbox-rows" data-testid="conversation-list">
              {conversations.map((c) => {
                const name = customerName(c);
                const current = c.id === currentId;
                const assignee =
                  c.assigned_staff_id == null
                    ? null
                    : c.assigned_staff_id === me?.id
                      ? t("inbox.assignedToMe")
                      : t("inbox.assignedTo", { name: staffNames.get(c.assigned_staff_id) ?? "…" });
                return (
                  <li key={c.id}>
                    <Link
                      to={linkTo(c.id)}
                      className={`inbox-row${current ? " inbox-row--current" : ""}${c.unread_count > 0 ? " inbox-row--unread" : ""}`}
                      aria-current={current ? "page" : undefined}
                      data-testid="conversation-row"
                      data-psid={c.psid}
                      data-conversation-id={c.id}
                    >
                      <Avatar name={name} src={c.profile_pic} />
                      <span className="inbox-row__body">
                        <span className="inbox-row__top">
                          <span className="inbox-row__name">{name ?? t("inbox.noName")}</span>
                          <span className="inbox-row__time">
                            {c.last_message_at ? (
                              <time dateTime={c.last_message_at} title={f.dateTime(c.last_message_at)}>
                                {f.relative(c.last_message_at, relativeBase(c.last_message_at, now))}
                              </time>
                            ) : (
                              t("inbox.noActivity")
                            )}
                          </span>
                        </span>
                        <span className="inbox-row__bottom">
                          <span className="inbox-row__badges">
                            {c.needs_human && (
                              <span className="inbox-needs" data-testid="needs-human">
                                {t("inbox.needsHuman")}
                              </span>
                            )}
                            <span title={t(c.mode === "ai" ? "inbox.mode.aiTitle" : "inbox.mode.humanTitle")}>
                              <Badge tone={c.mode === "ai" ? "info" : "success"}>
                                {t(c.mode === "ai" ? "inbox.mode.ai" : "inbox.mode.human")}
                              </Badge>
                            </span>
                            {c.status === "closed" && <Badge>{t("inbox.closed")}</Badge>}
                            {assignee && <span className="inbox-row__assignee">{assignee}</span>}
                          </span>
                          {c.unread_count > 0 && (
                            <span className="inbox-unread" aria-label={t("inbox.unread", { count: c.unread_count })}>
                              {c.unread_count}
                            </span>
                          )}
                        </span>
                      </span>
                    </Link>
                  </li>
                );
              })}
            </ul>
            {query.hasNextPage && (
              <div className="inbox-more">
                <Button variant="secondary" busy={query.isFetchingNextPage} onClick={() => void query.fetchNextPage()}>
                  {t("inbox.loadMore")}
                </Button>
              </div>
            )}
          </>
        )}
        {query.isFetching && !query.isPending && !query.isFetchingNextPage && (
          <span className="inbox-list__refreshing">
            <Spinner size="sm" decorative />
          </span>
        )}
      </div>
    </section>
  );
}
