/**
 * Plans of stack files changed for a test: the build itself is under test, so these are built,
 * not read from the plan cache (`planStack`, test/helpers/stack.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT, type Plan } from "../../tools/plan/plan";

/**
 * The plan of the shipped `Pulumi.<from>.yaml` with `edit` applied to its `config`, planned as
 * stack `as` (resource names follow the stack name) from a temporary project folder of its own.
 */
export async function planVariant(
  from: string,
  as: string,
  edit: (config: Record<string, unknown>) => void,
): Promise<Plan> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `opsbook-${as}-`));
  try {
    fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const file = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${from}.yaml`), "utf8")) as {
      config: Record<string, unknown>;
    };
    edit(file.config);
    fs.writeFileSync(path.join(dir, `Pulumi.${as}.yaml`), stringify(file));
    // What index.ts does, as a function: a required module would run only once per test file.
    return await buildPlan(as, { root: dir, load: () => stackOutputs(buildPlatform(loadConfig())) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `postgres` merged into the stack file's `opsbook:postgres`. */
export const withPostgres =
  (postgres: Record<string, unknown>) =>
  (config: Record<string, unknown>): void => {
    config["opsbook:postgres"] = { ...(config["opsbook:postgres"] as object), ...postgres };
  };
