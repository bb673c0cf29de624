/**
 * End to end through the offline plan, as `pulumi up` would run it: a `secure:` value in a
 * service's environment stops the program before anything is declared, and its value is not printed.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";

test("a secure: value in services[].environment is refused by the program, masked", async () => {
  const dir = mkdtempSync(join(tmpdir(), "opsbook-secure-"));
  copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  const doc = parse(readFileSync(join(REPO_ROOT, "Pulumi.staging.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const services = doc.config["opsbook:services"] as Array<Record<string, unknown>>;
  services[0]!.environment = { PARTNER_KEY: { secure: "v1:c2VjcmV0LWNpcGhlcnRleHQ=" } };
  writeFileSync(join(dir, "Pulumi.demo.yaml"), stringify(doc));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program itself, as buildPlan loads it
  const run = buildPlan("demo", { root: dir, load: () => require(join(REPO_ROOT, "index.ts")) as unknown });
  await expect(run).rejects.toThrow(/opsbook:services: got "\[secret\]"\n\s+allowed: no secure: values in services/);
  await run.catch((e: Error) => expect(e.message).not.toContain("c2VjcmV0"));
});
