// Fails when src/api/schema.d.ts is not what openapi-typescript makes of
// ../contracts/openapi/gateway.json, so the UI and the API cannot drift silently.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const committed = join(root, "src/api/schema.d.ts");
const tmp = join(root, ".api-check.tmp.d.ts");
const bin = join(root, "node_modules/.bin/openapi-typescript");

try {
  execFileSync(bin, ["../contracts/openapi/gateway.json", "-o", tmp], { cwd: root, stdio: "pipe" });
  let current;
  try {
    current = readFileSync(committed, "utf8");
  } catch {
    current = "";
  }
  const fresh = readFileSync(tmp, "utf8");
  if (current !== fresh) {
    console.error(
      "check:api FAILED: src/api/schema.d.ts is out of date with ../contracts/openapi/gateway.json.\n" +
        "The API contract changed. Run `npm run gen:api`, fix any type errors it reveals, and commit the result.",
    );
    process.exit(1);
  }
  console.log("check:api OK: src/api/schema.d.ts matches ../contracts/openapi/gateway.json");
} finally {
  rmSync(tmp, { force: true });
}
