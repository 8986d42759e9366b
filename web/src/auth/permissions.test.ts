import { describe, expect, it } from "vitest";
import { ALL_PERMISSIONS, permissionsFor } from "./permissions";

describe("permissionsFor", () => {
  it("prefers the API's list", () => {
    expect([...permissionsFor("viewer", ["staff:admin"])]).toEqual(["staff:admin"]);
  });
  it("derives from the role", () => {
    expect(permissionsFor("admin").size).toBe(ALL_PERMISSIONS.length);
    const manager = permissionsFor("manager");
    expect(manager.has("staff:admin")).toBe(false);
    expect(manager.size).toBe(ALL_PERMISSIONS.length - 1);
    expect(permissionsFor("agent").has("conversation:reply")).toBe(true);
    expect(permissionsFor("viewer").has("customer:write")).toBe(false);
    expect(permissionsFor("marketer").has("catalog:write")).toBe(true);
    expect(permissionsFor("nobody").size).toBe(0);
  });
});
