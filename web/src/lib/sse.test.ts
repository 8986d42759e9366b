import { describe, expect, it } from "vitest";
import { SseParser, type SseEvent } from "./sse";

function collect(chunks: string[], lastId: string | null = null) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const p = new SseParser(
    { onEvent: (e) => events.push(e), onComment: (c) => comments.push(c), onRetry: (r) => retries.push(r) },
    lastId,
  );
  for (const c of chunks) p.feed(c);
  return { events, comments, retries, parser: p };
}

const STREAM =
  ': keep-alive\n\n' +
  'id: 41\nevent: change\ndata: {"topic":"orders","type":"order.paid","order_id":"o1"}\n\n' +
  'event: reset\ndata: {}\n\n' +
  'id: 42\ndata: line one\ndata: line two\n\n';

describe("SseParser", () => {
  it("parses events, ids, comments and multi-line data", () => {
    const { events, comments } = collect([STREAM]);
    expect(comments).toEqual(["keep-alive"]);
    expect(events).toEqual([
      { event: "change", data: '{"topic":"orders","type":"order.paid","order_id":"o1"}', id: "41" },
      { event: "reset", data: "{}", id: "41" },
      { event: "message", data: "line one\nline two", id: "42" },
    ]);
  });

  it("gives the same result whatever the chunk boundaries", () => {
    const whole = collect([STREAM]).events;
    for (let size = 1; size <= 7; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(collect(chunks).events).toEqual(whole);
    }
    // split in the middle of a field name and of a value
    expect(collect(["id: 4", "1\nev", "ent: change\ndata: {\"to", "pic\":\"orders\"}\n", "\n"]).events).toEqual([
      { event: "change", data: '{"topic":"orders"}', id: "41" },
    ]);
  });

  it("handles CRLF and CR line ends, also with CR LF split across chunks", () => {
    const crlf = "id: 7\r\nevent: change\r\ndata: x\r\n\r\n";
    expect(collect([crlf]).events).toEqual([{ event: "change", data: "x", id: "7" }]);
    expect(collect(["id: 7\r", "\nevent: change\r", "\ndata: x\r", "\n\r", "\n"]).events).toEqual([
      { event: "change", data: "x", id: "7" },
    ]);
    expect(collect(["data: a\rdata: b\r\r"]).events).toEqual([{ event: "message", data: "a\nb", id: null }]);
  });

  it("keeps the last id it was given and updates it from the stream", () => {
    const { events, parser } = collect(["data: a\n\n", "id: 9\n\n"], "5");
    expect(events[0]?.id).toBe("5");
    expect(parser.lastEventId).toBe("9"); // an id without data still counts
  });

  it("does not dispatch an event without a blank line or without data", () => {
    const { events } = collect(["event: change\n\n", "data: pending"]);
    expect(events).toEqual([]);
  });

  it("strips exactly one space after the colon and reads retry", () => {
    const { events, retries } = collect(["data:  two spaces\nretry: 3000\ndata\n\n"]);
    expect(events[0]?.data).toBe(" two spaces\n");
    expect(retries).toEqual([3000]);
  });
});
