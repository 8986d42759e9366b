import { describe, expect, it } from "vitest";
import {
  emptyQueue,
  formatBytes,
  MAX_BYTES,
  percent,
  pollInterval,
  problemOfStatus,
  queueReducer,
  toStart,
  type QueueAction,
  type QueueState,
} from "./uploadQueue";

const run = (actions: QueueAction[], from: QueueState = emptyQueue) => actions.reduce(queueReducer, from);

describe("upload queue", () => {
  it("gives every file its own row, rejecting empty and too large files at once", () => {
    const s = run([
      {
        type: "add",
        files: [
          { name: "a.md", size: 10 },
          { name: "big.pdf", size: MAX_BYTES + 1 },
          { name: "empty.txt", size: 0 },
        ],
      },
    ]);
    expect(s.items.map((i) => [i.id, i.fileName, i.status, i.problem])).toEqual([
      [1, "a.md", "waiting", null],
      [2, "big.pdf", "failed", "tooLarge"],
      [3, "empty.txt", "failed", "empty"],
    ]);
    expect(s.nextId).toBe(4);
  });

  it("starts at most two at once, oldest first", () => {
    let s = run([{ type: "add", files: ["a", "b", "c"].map((name) => ({ name, size: 1 })) }]);
    expect(toStart(s).map((i) => i.fileName)).toEqual(["a", "b"]);
    s = run([{ type: "start", id: 1 }], s);
    expect(toStart(s).map((i) => i.fileName)).toEqual(["b"]);
    s = run([{ type: "start", id: 2 }], s);
    expect(toStart(s)).toEqual([]);
    s = run([{ type: "done", id: 1, documentId: "d1", created: true }], s);
    expect(toStart(s).map((i) => i.fileName)).toEqual(["c"]);
  });

  it("records each outcome separately", () => {
    const s = run([
      { type: "add", files: ["a", "b", "c"].map((name) => ({ name, size: 1 })) },
      { type: "start", id: 1 },
      { type: "start", id: 2 },
      { type: "start", id: 3 },
      { type: "done", id: 1, documentId: "d1", created: true },
      { type: "done", id: 2, documentId: "d2", created: false },
      { type: "fail", id: 3, problem: "unsupported", detail: "Reads .md, .txt" },
    ]);
    expect(s.items.map((i) => [i.status, i.documentId, i.problem, i.detail])).toEqual([
      ["created", "d1", null, null],
      ["unchanged", "d2", null, null],
      ["failed", null, "unsupported", "Reads .md, .txt"],
    ]);
  });

  it("keeps a replacement's target and clears only finished rows", () => {
    let s = run([
      { type: "add", files: [{ name: "v2.md", size: 5 }], replaces: "doc-1" },
      { type: "add", files: [{ name: "x.md", size: 5 }] },
      { type: "start", id: 1 },
      { type: "start", id: 2 },
      { type: "done", id: 2, documentId: "d", created: true },
    ]);
    expect(s.items[0]!.replaces).toBe("doc-1");
    s = run([{ type: "dismiss", id: 1 }], s); // still uploading: stays
    expect(s.items).toHaveLength(2);
    s = run([{ type: "clearFinished" }], s);
    expect(s.items.map((i) => i.id)).toEqual([1]);
  });

  it("does not start a row twice", () => {
    const s = run([
      { type: "add", files: [{ name: "a", size: 1 }] },
      { type: "start", id: 1 },
      { type: "fail", id: 1, problem: "network" },
      { type: "start", id: 1 },
    ]);
    expect(s.items[0]!.status).toBe("failed");
  });

  it("maps statuses to problems", () => {
    expect(problemOfStatus(413)).toBe("tooLarge");
    expect(problemOfStatus(415)).toBe("unsupported");
    expect(problemOfStatus(503)).toBe("unavailable");
    expect(problemOfStatus(0)).toBe("network");
    expect(problemOfStatus(500)).toBe("server");
  });
});

describe("document list", () => {
  it("polls every second while anything is queued or indexing", () => {
    expect(pollInterval(undefined)).toBe(false);
    expect(pollInterval([])).toBe(false);
    expect(pollInterval([{ status: "ready" }, { status: "failed" }])).toBe(false);
    expect(pollInterval([{ status: "ready" }, { status: "indexing" }])).toBe(1000);
    expect(pollInterval([{ status: "queued" }])).toBe(1000);
  });
  it("computes progress and sizes", () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(3, 4)).toBe(75);
    expect(percent(5, 4)).toBe(100);
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(20 * 1024 * 1024)).toBe("20 MB");
  });
});
