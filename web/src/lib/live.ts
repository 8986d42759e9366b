/**
 * Live updates: Server-Sent Events over fetch (not EventSource, which cannot send the
 * Authorization header). GET /api/v1/live with `Accept: text/event-stream` and, when
 * resuming, `Last-Event-ID`. Reconnects with backoff 1 s → 10 s; on 401 it refreshes the
 * access token, then reconnects. A stream silent for longer than IDLE_TIMEOUT_MS (the server
 * sends `:` keep-alives) counts as dropped.
 *
 * Events:
 *   event: change  data {"topic": LiveTopic, "type": "message.received", "conversation_id"?, …}
 *   event: reset   data {}  → the server cannot replay what was missed: refetch everything.
 */
import { SseParser } from "./sse";
import { ensureAccessToken, refreshTokens, RefreshError } from "../api/tokens";

export const LIVE_TOPICS = ["conversations", "customers", "orders", "catalog", "knowledge", "syncs"] as const;
export type LiveTopic = (typeof LIVE_TOPICS)[number];

export interface ChangeEvent {
  kind: "change";
  id: string | null;
  topic: LiveTopic;
  type: string;
  conversation_id?: string;
  customer_id?: string;
  order_id?: string;
  product_id?: string;
  needs_human?: boolean;
}
export interface ResetEvent {
  kind: "reset";
  id: string | null;
}
export type LiveEvent = ChangeEvent | ResetEvent;

export type LiveState = "connecting" | "connected" | "reconnecting" | "stopped";

export interface LiveOptions {
  url?: string;
  onEvent: (e: LiveEvent) => void;
  onState: (s: LiveState) => void;
  fetchImpl?: typeof fetch;
}

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 10_000;
const IDLE_TIMEOUT_MS = 45_000;

export function parseLiveEvent(event: string, data: string, id: string | null): LiveEvent | null {
  if (event === "reset") return { kind: "reset", id };
  if (event !== "change") return null;
  try {
    const body = JSON.parse(data) as Partial<ChangeEvent>;
    if (typeof body.topic !== "string" || !(LIVE_TOPICS as readonly string[]).includes(body.topic)) return null;
    return { ...body, kind: "change", id, topic: body.topic, type: String(body.type ?? "") };
  } catch {
    return null;
  }
}

export class LiveConnection {
  private controller: AbortController | null = null;
  private stopped = true;
  private lastEventId: string | null = null;
  private backoff = MIN_BACKOFF_MS;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
    this.wake?.();
    this.opts.onState("stopped");
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    let first = true;
    while (!this.stopped) {
      this.opts.onState(first ? "connecting" : "reconnecting");
      first = false;
      const outcome = await this.connectOnce();
      if (this.stopped) return;
      if (outcome === "unauthorized") {
        try {
          await refreshTokens();
          continue; // fresh token: reconnect at once
        } catch (err) {
          if (err instanceof RefreshError && err.rejected) return this.stop(); // signed out
        }
      }
      await this.sleep(this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private async connectOnce(): Promise<"dropped" | "unauthorized"> {
    const controller = new AbortController();
    this.controller = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), IDLE_TIMEOUT_MS);
    };
    try {
      let token: string;
      try {
        token = await ensureAccessToken();
      } catch (err) {
        return err instanceof RefreshError && err.rejected ? "unauthorized" : "dropped";
      }
      const headers: Record<string, string> = {
        Accept: "text/event-stream",
        Authorization: `Bearer ${token}`,
        "Cache-Control": "no-cache",
      };
      if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
      touch();
      const res = await (this.opts.fetchImpl ?? fetch)(this.opts.url ?? "/api/v1/live", {
        headers,
        signal: controller.signal,
        cache: "no-store",
      });
      if (res.status === 401) return "unauthorized";
      if (!res.ok || !res.body) return "dropped";
      this.opts.onState("connected");
      this.backoff = MIN_BACKOFF_MS;
      const parser = new SseParser(
        {
          onEvent: ({ event, data, id }) => {
            const e = parseLiveEvent(event, data, id);
            if (e) this.opts.onEvent(e);
          },
          onRetry: (ms) => {
            this.backoff = Math.min(Math.max(ms, MIN_BACKOFF_MS), MAX_BACKOFF_MS);
          },
        },
        this.lastEventId,
      );
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        touch();
        parser.feed(value);
        this.lastEventId = parser.lastEventId;
      }
      return "dropped";
    } catch {
      return "dropped"; // network error, abort (idle timeout or stop)
    } finally {
      clearTimeout(idle);
      if (this.controller === controller) this.controller = null;
    }
  }
}
