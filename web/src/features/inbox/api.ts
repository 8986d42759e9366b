/**
 * The inbox's reads and writes. Every key starts with "conversations" (the live topic) except the
 * customer panel (its own area, "customers") and the staff directory (rarely changes).
 */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ApiError } from "../../api/errors";
import { filterParams, type Conversation, type InboxFilter, type Message } from "./logic";

export const PAGE_SIZE = 30;
export const THREAD_PAGE_SIZE = 40;

export const inboxKeys = {
  all: ["conversations"] as const,
  list: (filter: InboxFilter) => ["conversations", "list", filter] as const,
  thread: (id: string) => ["conversations", "thread", id] as const,
  suggestion: (id: string) => ["conversations", "suggestion", id] as const,
};

export function useConversationList(filter: InboxFilter) {
  return useInfiniteQuery({
    queryKey: inboxKeys.list(filter),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/conversations", {
          params: { query: { ...filterParams(filter), limit: PAGE_SIZE, cursor: pageParam ?? undefined } },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useThread(id: string | null) {
  return useInfiniteQuery({
    queryKey: inboxKeys.thread(id ?? "none"),
    enabled: id != null,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/v1/conversations/{conversation_id}", {
          params: {
            path: { conversation_id: id! },
            query: { messages_limit: THREAD_PAGE_SIZE, before: pageParam ?? undefined },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

export function useSuggestion(id: string | null, enabled: boolean) {
  return useQuery({
    queryKey: inboxKeys.suggestion(id ?? "none"),
    enabled: enabled && id != null,
    retry: false,
    queryFn: async () => {
      try {
        return await unwrap(
          api.GET("/api/v1/conversations/{conversation_id}/suggestion", { params: { path: { conversation_id: id! } } }),
        );
      } catch (err) {
        // No draft (yet): nothing to show, not an error for staff.
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
}

export function useStaffDirectory() {
  return useQuery({
    queryKey: ["staff", "directory"],
    staleTime: 5 * 60_000,
    retry: false,
    queryFn: () => unwrap(api.GET("/api/v1/staff/directory")),
  });
}

export function useCustomerByPsid(psid: string | null, enabled: boolean) {
  return useQuery({
    queryKey: ["customers", "byPsid", psid],
    enabled: enabled && !!psid,
    queryFn: async () => {
      const page = await unwrap(api.GET("/api/v1/customers", { params: { query: { psid: psid!, limit: 1 } } }));
      return page.items[0] ?? null;
    },
  });
}

/** Mark read when opened (unread back to 0), then refresh the list's badges. */
export function useMarkRead() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/api/v1/conversations/{conversation_id}/read", { params: { path: { conversation_id: id } } })),
    onSuccess: (conv) => {
      patchConversation(qc, conv);
      void qc.invalidateQueries({ queryKey: ["conversations", "list"] });
    },
  });
}

type ThreadData = { pages: { conversation: Conversation; messages: Message[]; next_cursor: string | null }[] };
type ListData = { pages: { items: Conversation[]; next_cursor: string | null }[] };

/** Put the server's answer (a Conversation) into the cached thread and lists at once. */
export function patchConversation(qc: ReturnType<typeof useQueryClient>, conv: Conversation) {
  qc.setQueryData<ThreadData>(inboxKeys.thread(conv.id), (old) =>
    old ? { ...old, pages: old.pages.map((p) => ({ ...p, conversation: conv })) } : old,
  );
  qc.setQueriesData<ListData>({ queryKey: ["conversations", "list"] }, (old) =>
    old
      ? { ...old, pages: old.pages.map((p) => ({ ...p, items: p.items.map((c) => (c.id === conv.id ? conv : c)) })) }
      : old,
  );
}

/** Append the server's stored reply to the cached thread (until the refetch brings it). */
export function appendMessage(qc: ReturnType<typeof useQueryClient>, conversationId: string, message: Message) {
  qc.setQueryData<ThreadData>(inboxKeys.thread(conversationId), (old) => {
    if (!old || old.pages.length === 0) return old;
    const [first, ...rest] = old.pages;
    if (first!.messages.some((m) => m.id === message.id)) return old;
    return { ...old, pages: [{ ...first!, messages: [...first!.messages, message] }, ...rest] };
  });
}

export type ConversationAction = "takeOver" | "handBack" | "assignToMe" | "unassign";

export function useConversationAction(meId: string | undefined) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: ConversationAction }) => {
      const path = { conversation_id: id };
      if (action === "handBack") return unwrap(api.POST("/api/v1/conversations/{conversation_id}/handback", { params: { path } }));
      const staff_id = action === "unassign" ? null : (meId ?? null);
      return unwrap(api.POST("/api/v1/conversations/{conversation_id}/assign", { params: { path }, body: { staff_id } }));
    },
    onSuccess: (conv) => patchConversation(qc, conv),
    onSettled: () => qc.invalidateQueries({ queryKey: inboxKeys.all }),
  });
}

export function useSendReply() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, text, key }: { id: string; text: string; key: string }) =>
      unwrap(
        api.POST("/api/v1/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id }, header: { "Idempotency-Key": key } },
          body: { text },
        }),
      ),
    onSuccess: (sent, { id }) => appendMessage(qc, id, sent.message),
    onSettled: () => qc.invalidateQueries({ queryKey: inboxKeys.all }),
  });
}
