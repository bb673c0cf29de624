/**
 * The shared plan cache of the whole-stack tests (test/helpers/stack.ts): a plan is read from the
 * cache only while every file it is made from is unchanged, and what is cached is what the plan
 * tool prints.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cachedPlanJson, planSourceKey } from "./stack";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan } from "../../tools/plan/plan";

function project(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-plan-key-"));
  const files: Record<string, string> = {
    "index.ts": "export {};\n",
    "lib/time.ts": "export const a = 1;\n",
    "components/network/network.ts": "export const b = 2;\n",
    "stacks/config.ts": "export const c = 3;\n",
    "tools/plan/plan.ts": "export const d = 4;\n",
    "Pulumi.yaml": "name: opsbook\n",
    "Pulumi.staging.yaml": "config: {}\n",
    "package-lock.json": "{}\n",
    "ops/main.ts": "export const e = 5;\n",
    "test/stacks/staging.test.ts": "test('x', () => {});\n",
    "policy/tests/rules/iam.test.ts": "test('y', () => {});\n",
    "docs/runbooks.md": "# runbooks\n",
    "node_modules/x/index.js": "module.exports = 1;\n",
    ".cache/plans/k/staging.json": "{}\n",
    "README.md": "# opsbook\n",
  };
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

describe("planSourceKey", () => {
  test("is the same for the same sources", () => {
    const root = project();
    expect(planSourceKey(root)).toBe(planSourceKey(root));
    expect(planSourceKey(root)).toMatch(/^[0-9a-f]{20}$/);
  });

  test.each([
    ["a library file", "lib/time.ts"],
    ["a component", "components/network/network.ts"],
    ["the stack rules", "stacks/config.ts"],
    ["the plan tool", "tools/plan/plan.ts"],
    ["a stack file", "Pulumi.staging.yaml"],
    ["the lockfile", "package-lock.json"],
    ["the program", "index.ts"],
    ["any other source, even one the program does not load today", "ops/main.ts"],
  ])("changes when %s changes", (_, file) => {
    const root = project();
    const before = planSourceKey(root);
    fs.appendFileSync(path.join(root, file), "\n// changed\n");
    expect(planSourceKey(root)).not.toBe(before);
  });

  test("changes when a file is added to the program or a stack file is added", () => {
    const root = project();
    const before = planSourceKey(root);
    fs.writeFileSync(path.join(root, "components/network/extra.ts"), "export {};\n");
    const withComponent = planSourceKey(root);
    expect(withComponent).not.toBe(before);
    fs.writeFileSync(path.join(root, "Pulumi.demo.yaml"), "config: {}\n");
    expect(planSourceKey(root)).not.toBe(withComponent);
  });

  test("changes when a file moves, even with the same content", () => {
    const root = project();
    const before = planSourceKey(root);
    fs.renameSync(path.join(root, "lib/time.ts"), path.join(root, "lib/clock.ts"));
    expect(planSourceKey(root)).not.toBe(before);
  });

  test("does not change with the tests, the docs, the caches or installed packages", () => {
    const root = project();
    const before = planSourceKey(root);
    for (const file of [
      "test/stacks/staging.test.ts",
      "policy/tests/rules/iam.test.ts",
      "docs/runbooks.md",
      "README.md",
      "node_modules/x/index.js",
      ".cache/plans/k/staging.json",
    ]) {
      fs.appendFileSync(path.join(root, file), "// changed\n");
    }
    expect(planSourceKey(root)).toBe(before);
  });
});

describe("cachedPlanJson", () => {
  test("is the plan tool's JSON output for the stack, byte for byte", async () => {
    const json = await cachedPlanJson("staging");
    // What `npm run plan -- --stack staging --json` prints: the plan built here, serialized as it does.
    const built = await buildPlan("staging", { load: () => stackOutputs(buildPlatform(loadConfig())) });
    expect(built.resources.length).toBeGreaterThan(100);
    expect(json).toBe(`${JSON.stringify(built, null, 2)}\n`);
  }, 60_000);
});
