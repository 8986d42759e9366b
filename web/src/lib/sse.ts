/**
 * An incremental parser for text/event-stream (the WHATWG "event stream" format).
 * Feed it decoded text in chunks of any size; lines split across chunks (including a CR LF
 * pair split between two chunks) are handled.
 */
export interface SseEvent {
  /** "message" when the stream gave no `event:` field. */
  event: string;
  data: string;
  /** The last event id seen so far on this stream (sticky, as in the spec), or null. */
  id: string | null;
}

export interface SseHandlers {
  onEvent: (event: SseEvent) => void;
  /** A `:` comment line, e.g. a keep-alive. */
  onComment?: (text: string) => void;
  /** A `retry:` field, in milliseconds. */
  onRetry?: (ms: number) => void;
}

export class SseParser {
  private buffer = "";
  private skipLeadingLF = false;
  private eventType = "";
  private data: string[] = [];
  private hasData = false;
  lastEventId: string | null;

  constructor(
    private readonly handlers: SseHandlers,
    lastEventId: string | null = null,
  ) {
    this.lastEventId = lastEventId;
  }

  feed(chunk: string): void {
    let text = chunk;
    if (this.skipLeadingLF) {
      if (text.startsWith("\n")) text = text.slice(1);
      if (text.length > 0) this.skipLeadingLF = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== "\n" && c !== "\r") continue;
      this.line(this.buffer.slice(start, i));
      if (c === "\r") {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === "\n") i++;
        } else {
          this.skipLeadingLF = true; // the LF of this CR LF may come in the next chunk
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** Call when the stream ends: an event not followed by a blank line is discarded (spec). */
  reset(): void {
    this.buffer = "";
    this.skipLeadingLF = false;
    this.eventType = "";
    this.data = [];
    this.hasData = false;
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.startsWith(":")) {
      this.handlers.onComment?.(line.slice(1).replace(/^ /, ""));
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      this.handlers.onEvent({
        event: this.eventType || "message",
        data: this.data.join("\n"),
        id: this.lastEventId,
      });
    }
    this.eventType = "";
    this.data = [];
    this.hasData = false;
  }
}
