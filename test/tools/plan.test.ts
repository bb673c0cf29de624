import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../stacks/config";
import { buildPlatform } from "../../stacks/platform";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";
import { readStackFile } from "../../tools/plan/stackFile";

function tempProject(stackYaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-plan-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: opsbook\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, "Pulumi.demo.yaml"), stackYaml);
  return dir;
}

describe("readStackFile", () => {
  test("hands config over as the Pulumi CLI does: namespaced keys, JSON objects, secure values as placeholders", () => {
    const dir = tempProject(
      [
        "config:",
        "  aws:region: eu-west-1",
        "  opsbook:protect: true",
        "  environment: demo",
        "  opsbook:alerts:",
        "    emails: [a@example.com]",
        "  opsbook:token:",
        "    secure: v1:abc",
        "",
      ].join("\n"),
    );
    expect(readStackFile(dir, "demo")).toEqual({
      project: "opsbook",
      stack: "demo",
      config: {
        "aws:region": "eu-west-1",
        "opsbook:protect": "true",
        "opsbook:environment": "demo",
        "opsbook:alerts": '{"emails":["a@example.com"]}',
        "opsbook:token": "[secret opsbook:token]",
      },
      secretKeys: ["opsbook:token"],
    });
  });

  test("names the stacks there are when the stack file is missing", () => {
    expect(() => readStackFile(REPO_ROOT, "prod")).toThrow(
      `no stack "prod": ${path.join(REPO_ROOT, "Pulumi.prod.yaml")} does not exist. Stacks here: local, production, staging, staging-k8s`,
    );
  });

  test.each([
    ["broken YAML", "config:\n  opsbook:environment: [oops\n", /Pulumi\.demo\.yaml is not valid YAML: .*line 3/],
    [
      "config that is not a map",
      "config: 5\n",
      /Pulumi\.demo\.yaml: "config" must be a map of keys to values, e\.g\. [\s\S]*; got 5$/,
    ],
  ])("names the file and the problem for %s", (_, yaml, message) => {
    expect(() => readStackFile(tempProject(yaml), "demo")).toThrow(message);
  });

  test("says where to run from when there is no Pulumi.yaml", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-plan-"));
    expect(() => readStackFile(dir, "demo")).toThrow(
      `${path.join(dir, "Pulumi.yaml")} does not exist: run the plan from the project's root, or pass --root <project dir>`,
    );
  });

  test("rejects a stack name that is not a file name", () => {
    expect(() => readStackFile(REPO_ROOT, "../etc")).toThrow(`"../etc" is not a stack name`);
  });
});

describe("buildPlan with bad config", () => {
  test("fails with the config message and declares nothing", async () => {
    const dir = tempProject(
      [
        "config:",
        "  aws:region: eu-west-1",
        "  opsbook:environment: demo",
        "  opsbook:postgres:",
        "    backupRetentionDays: 90",
        "",
      ].join("\n"),
    );
    let declared = 0;
    const attempt = buildPlan("demo", {
      root: dir,
      load: () => {
        const config = loadConfig();
        declared++;
        return buildPlatform(config);
      },
    });
    await expect(attempt).rejects.toThrow(
      /opsbook:postgres\.backupRetentionDays: got 90\n\s+allowed: a whole number from 1 to 35 days/,
    );
    expect(declared).toBe(0);
  });
});

describe("npm run plan", () => {
  test("exits 1 with the message naming the misspelled key and its fix", () => {
    const dir = tempProject(
      fs
        .readFileSync(path.join(REPO_ROOT, "Pulumi.staging.yaml"), "utf8")
        .replace("natGateways: single", "natGatways: single"),
    );
    fs.copyFileSync(path.join(REPO_ROOT, "index.ts"), path.join(dir, "index.ts"));
    fs.symlinkSync(path.join(REPO_ROOT, "stacks"), path.join(dir, "stacks"));
    fs.symlinkSync(path.join(REPO_ROOT, "components"), path.join(dir, "components"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    const run = spawnSync(
      process.execPath,
      [
        "-r",
        path.join(REPO_ROOT, "tools", "register.js"),
        path.join(REPO_ROOT, "tools", "plan.ts"),
        "--stack",
        "demo",
        "--root",
        dir,
      ],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      'opsbook:network.natGatways: got "single"\n      allowed: no such key; did you mean "natGateways"?',
    );
    expect(run.stderr).toContain("fix:     pulumi config rm --path 'opsbook:network.natGatways' --stack demo");
    expect(run.status).toBe(1);
  });

  test("prints the network of a real stack as a tree", () => {
    const run = spawnSync(
      process.execPath,
      [
        "-r",
        path.join(REPO_ROOT, "tools", "register.js"),
        path.join(REPO_ROOT, "tools", "plan.ts"),
        "--stack",
        "staging",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^opsbook \/ staging: \d+ resources\n/);
    expect(run.stdout).toMatch(/^[├└]─ opsbook:network:Network {2}staging$/m);
    expect(run.stdout).toMatch(/^│ {2}[├└]─ aws:ec2\/vpc:Vpc {2}staging-vpc$/m);
  });
});
