/**
 * Every ARN the program writes comes from the partition: the production stack file moved to
 * GovCloud (us-gov-west-1, its DR copy moved to us-gov-east-1) plans with no `arn:aws:` anywhere,
 * in trust policies, key policies, IAM policies or alarm actions.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";
import { partitionOfRegion } from "../../lib/partition";

test("a whole production plan in a GovCloud region names no resource of the commercial partition", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-govcloud-"));
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const production = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.production.yaml"), "utf8");
  const gov = production
    .replace(/eu-west-1/g, "us-gov-west-1")
    .replace(/eu-central-1/g, "us-gov-east-1")
    .replace(/arn:aws:/g, "arn:aws-us-gov:");
  expect(gov).not.toMatch(/eu-west-1|eu-central-1/);
  expect(gov).toContain("drRegion: us-gov-east-1");
  fs.writeFileSync(path.join(dir, "Pulumi.govcloud.yaml"), gov);

  const plan = await buildPlan("govcloud", { root: dir, load: () => stackOutputs(buildPlatform(loadConfig())) });
  const text = JSON.stringify(plan);
  expect(plan.resources.length).toBeGreaterThan(100);
  const commercial = [...text.matchAll(/.{0,80}arn:aws:.{0,80}/g)].map((m) => m[0]);
  expect(commercial).toEqual([]);
  expect(text).toContain("arn:aws-us-gov:");
}, 120_000);

test.each([
  ["eu-west-1", "aws"],
  ["us-gov-west-1", "aws-us-gov"],
  ["cn-north-1", "aws-cn"],
])("the partition of %s is %s", (region, partition) => {
  expect(partitionOfRegion(region)).toBe(partition);
});
