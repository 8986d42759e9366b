import { describe, expect, it } from "vitest";
import { en, type MessageKey } from "./en";
import { th } from "./th";
import { translate } from "./translate";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("dictionaries", () => {
  it("Thai has every English key, non-empty, with the same placeholders", () => {
    expect(Object.keys(th).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as MessageKey[]) {
      expect(th[key].trim(), key).not.toBe("");
      expect(placeholders(th[key]), key).toEqual(placeholders(en[key]));
    }
  });
  it("fills parameters", () => {
    expect(translate("en", "header.signedInAs", { email: "a@b.c" })).toBe("Signed in as a@b.c");
    expect(translate("th", "header.signedInAs", { email: "a@b.c" })).toBe("เข้าสู่ระบบในชื่อ a@b.c");
  });
});
