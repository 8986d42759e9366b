import { describe, expect, it } from "vitest";
import {
  buildPatch,
  conflictRows,
  createdRange,
  detailPairs,
  detectQueryKind,
  draftOf,
  exportFileName,
  fieldErrorMap,
  mergedInto,
  normalizeThaiPhone,
  pipelineSteps,
  reapplyMine,
  sameValue,
  searchParamsFor,
  STAGES,
  stageOrder,
  versionOfEtag,
  type Draft,
} from "./logic";

const base: Draft = draftOf({
  display_name: "Somchai",
  name_th: "สมชาย ใจดี",
  name_latin: "Somchai Jaidee",
  nickname: null,
  phone: "+66812345678",
  email: "som@example.com",
  tags: ["vip"],
});

describe("search box", () => {
  it.each([
    ["081-234-5678", "+66812345678"],
    ["0812345678", "+66812345678"],
    ["+66 81 234 5678", "+66812345678"],
    ["66812345678", "+66812345678"],
    ["0066812345678", "+66812345678"],
    ["(02) 123 4567", "+6621234567"],
    ["+81 90 1234 5678", "+819012345678"],
  ])("reads the phone %s as %s", (input, e164) => {
    expect(normalizeThaiPhone(input)).toBe(e164);
  });
  it("rejects what is not a phone number", () => {
    expect(normalizeThaiPhone("สมชาย")).toBeNull();
    expect(normalizeThaiPhone("12")).toBeNull();
    expect(normalizeThaiPhone("a@b.c")).toBeNull();
  });
  it.each([
    ["", "empty"],
    ["   ", "empty"],
    ["som@example.com", "email"],
    ["TVS-CUS-FB-26-0001", "customerId"],
    ["tvs-cus-line-26", "customerId"],
    ["081 234 5678", "phone"],
    ["+66812345678", "phone"],
    ["24976580341234567", "psid"],
    ["สมชาย", "text"],
    ["Somchai J", "text"],
  ])("%j is a %s", (input, kind) => {
    expect(detectQueryKind(input)).toBe(kind);
  });
  it("sends a PSID as psid, an id upper-cased, the rest as q", () => {
    expect(searchParamsFor("24976580341234567")).toEqual({ psid: "24976580341234567" });
    expect(searchParamsFor(" tvs-cus-fb-26-0001 ")).toEqual({ q: "TVS-CUS-FB-26-0001" });
    expect(searchParamsFor("081-234-5678")).toEqual({ q: "081-234-5678" });
    expect(searchParamsFor("")).toEqual({});
  });
});

describe("stages", () => {
  it("orders the pipeline with lost last and unknown after", () => {
    const sorted = ["lost", "alumni", "lead", "weird", "qualified"].sort((a, b) => stageOrder(a) - stageOrder(b));
    expect(sorted).toEqual(["lead", "qualified", "alumni", "lost", "weird"]);
    expect(STAGES).toEqual(["lead", "contacted", "qualified", "enrolled", "alumni", "lost"]);
  });
  it("marks steps done, current and to do", () => {
    expect(pipelineSteps("qualified").map((s) => s.state)).toEqual(["done", "done", "current", "todo", "todo"]);
    expect(pipelineSteps("lost").every((s) => s.state === "todo")).toBe(true);
  });
});

describe("profile patch", () => {
  it("sends only changed fields; cleared text is null; tags as a list", () => {
    const draft = { ...base, nickname: "Chai", email: "", tags: "vip, thai-course , vip" };
    expect(buildPatch(base, draft)).toEqual({ nickname: "Chai", email: null, tags: ["vip", "thai-course"] });
  });
  it("a phone typed in another form of the same number is no change", () => {
    expect(buildPatch(base, { ...base, phone: "081-234-5678" })).toEqual({});
    expect(sameValue("phone", "+66812345678", "0812345678")).toBe(true);
    expect(sameValue("email", "A@B.C", "a@b.c")).toBe(true);
    expect(sameValue("tags", "a, b", "b,a")).toBe(true);
  });
});

describe("edit conflict", () => {
  const mine = { ...base, nickname: "Chai", email: "new@example.com" };
  const theirs = { ...base, email: "their@example.com", name_latin: "Somchai J." };
  it("lists the fields either side changed, and the clashes", () => {
    const rows = conflictRows(base, mine, theirs);
    expect(rows.map((r) => [r.field, r.mineChanged, r.theirsChanged, r.clash])).toEqual([
      ["name_latin", false, true, false],
      ["nickname", true, false, false],
      ["email", true, true, true],
    ]);
    expect(rows.find((r) => r.field === "email")).toMatchObject({ mine: "new@example.com", theirs: "their@example.com" });
  });
  it("both changing to the same value is no clash", () => {
    const rows = conflictRows(base, { ...base, nickname: "Chai" }, { ...base, nickname: "Chai" });
    expect(rows).toEqual([expect.objectContaining({ field: "nickname", clash: false })]);
  });
  it("re-applies my changes on top of theirs, keeping what only they changed", () => {
    const merged = reapplyMine(base, mine, theirs);
    expect(merged).toEqual({ ...theirs, nickname: "Chai", email: "new@example.com" });
    expect(buildPatch(theirs, merged)).toEqual({ nickname: "Chai", email: "new@example.com" });
  });
});

describe("helpers", () => {
  it("maps 422 errors to fields", () => {
    expect(
      fieldErrorMap([
        { field: "body.phone", location: "body", detail: "Not a phone number" },
        { field: "email", detail: "Bad e-mail" },
        { field: "email", detail: "second" },
      ]),
    ).toEqual({ phone: "Not a phone number", email: "Bad e-mail" });
  });
  it("reads ETags", () => {
    expect(versionOfEtag('"7"')).toBe(7);
    expect(versionOfEtag('W/"12"')).toBe(12);
    expect(versionOfEtag(null)).toBeNull();
    expect(versionOfEtag("abc")).toBeNull();
  });
  it("turns Bangkok days into an inclusive instant range", () => {
    expect(createdRange("2026-12-01", "2026-12-31")).toEqual({
      created_from: "2026-12-01T00:00:00+07:00",
      created_to: "2027-01-01T00:00:00+07:00",
    });
    expect(createdRange("", "bad")).toEqual({});
  });
  it("finds the customer a merged one went into", () => {
    expect(mergedInto("TVS-CUS-FB-26-0002 was merged into TVS-CUS-FB-26-0001.", "TVS-CUS-FB-26-0002")).toBe("TVS-CUS-FB-26-0001");
    expect(mergedInto("No customer TVS-CUS-FB-26-0002.", "TVS-CUS-FB-26-0002")).toBeNull();
    expect(mergedInto(undefined, "x")).toBeNull();
  });
  it("names the export file after the customer", () => {
    expect(exportFileName("TVS-CUS-FB-26-0001")).toBe("TVS-CUS-FB-26-0001.json");
  });
  it("shows timeline details without nested JSON", () => {
    expect(detailPairs({ from: "lead", to: "qualified", score: 80, nested: { a: 1 }, none: null, ids: [] })).toEqual([
      ["from", "lead"],
      ["to", "qualified"],
      ["score", "80"],
    ]);
  });
});
