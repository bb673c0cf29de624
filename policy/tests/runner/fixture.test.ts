import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT, type Io, REPO_ROOT, checkPlan, readPlanFile, runCli, stackConfigFile } from "../../../tools/policy/cli";

const FIXTURE = path.join(__dirname, "..", "fixtures", "three-violations.json");

function capture(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
}

describe("a staging plan with an unencrypted database, an unversioned bucket and 5432 open to the world", () => {
  test("fails with exactly those three mandatory violations", async () => {
    const report = await checkPlan(readPlanFile(FIXTURE), { configFile: stackConfigFile("staging") });
    expect(
      report.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.type, d.resource?.name]),
    ).toEqual([
      ["mandatory", "rds-storage-encrypted", "aws:rds/instance:Instance", "db"],
      [
        "mandatory",
        "security-group-no-world-ingress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "db-from-anywhere",
      ],
      ["mandatory", "s3-versioning-enabled", "aws:s3/bucket:Bucket", "backups"],
    ]);
    expect(report.exitCode).toBe(EXIT.violations);
  });

  test("npm run policy -- --plan prints them as a preview does and returns 1", async () => {
    const io = capture();
    expect(await runCli(["--plan", FIXTURE], io)).toBe(1);
    const out = io.out.join("");
    expect(out).toMatch(/^Policies:\n {4}❌ opsbook@v\d+\.\d+\.\d+ \(local: policy\)\n/);
    expect(out).toContain(
      [
        "        - [mandatory]  rds-storage-encrypted  (aws:rds/instance:Instance: db)",
        "          urn:pulumi:staging::opsbook::aws:rds/instance:Instance::db",
        "          Every RDS instance encrypts its storage with a customer-managed KMS key. During preview: a KMS key or IAM role created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.",
        '          RDS instance "db": storageEncrypted is false; required: true.',
      ].join("\n"),
    );
    expect(out).toContain(
      "opsbook/staging, 17 resources, config policy/config/staging.json: 3 mandatory violations, 0 advisory violations.\n",
    );
    expect(io.err).toEqual([]);
  });

  test("the command line exits 1 with the three rules", () => {
    const run = spawnSync(
      process.execPath,
      ["-r", "./tools/register.js", "tools/policy.ts", "--plan", path.relative(REPO_ROOT, FIXTURE)],
      { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.match(/- \[\w+\] {2}[a-z0-9-]+/g)).toEqual([
      "- [mandatory]  rds-storage-encrypted",
      "- [mandatory]  security-group-no-world-ingress",
      "- [mandatory]  s3-versioning-enabled",
    ]);
    expect(run.status).toBe(1);
  });
});

describe("npm run policy arguments", () => {
  test("--json gives the diagnostics to other tools", async () => {
    const io = capture();
    expect(await runCli(["--plan", FIXTURE, "--json"], io)).toBe(1);
    const parsed = JSON.parse(io.out.join("")) as {
      stack: string;
      configFile: string | null;
      mandatory: number;
      advisory: number;
      diagnostics: Array<{ policyName: string }>;
    };
    expect({
      stack: parsed.stack,
      configFile: parsed.configFile,
      mandatory: parsed.mandatory,
      advisory: parsed.advisory,
      rules: parsed.diagnostics.map((d: { policyName: string }) => d.policyName),
    }).toEqual({
      stack: "staging",
      configFile: "policy/config/staging.json",
      mandatory: 3,
      advisory: 0,
      rules: ["rds-storage-encrypted", "security-group-no-world-ingress", "s3-versioning-enabled"],
    });
  });

  test("a plan of a stack without a policy config runs with the pack's defaults, and says so", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-policy-"));
    const file = path.join(dir, "plan.json");
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(FIXTURE, "utf8")), stack: "demo" }));
    const io = capture();
    expect(await runCli(["--plan", file], io)).toBe(1);
    expect(io.err).toEqual(["note: no policy/config/demo.json; the pack's default levels and settings apply\n"]);
    // By default stateful resources must be protected, which the fixture's are not.
    expect(io.out.join("")).toContain("- [mandatory]  stateful-resource-protected  (aws:s3/bucket:Bucket: backups)");
  });

  test("--config replaces the stack's config, and a bad one stops the run with exit 2", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-policy-"));
    const relaxed = path.join(dir, "relaxed.json");
    // Only this file applies: staging's own config (which disables the protection rule) does not.
    fs.writeFileSync(
      relaxed,
      JSON.stringify({
        "rds-storage-encrypted": "advisory",
        "s3-versioning-enabled": "advisory",
        "security-group-no-world-ingress": "advisory",
        "stateful-resource-protected": "disabled",
      }),
    );
    const ok = capture();
    expect(await runCli(["--plan", FIXTURE, "--config", relaxed], ok)).toBe(0);
    expect(ok.out.join("")).toContain("0 mandatory violations, 3 advisory violations.");

    const bad = path.join(dir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ "rds-multiaz": "mandatory" }));
    const io = capture();
    expect(await runCli(["--plan", FIXTURE, "--config", bad], io)).toBe(EXIT.error);
    expect(io.err).toEqual([`${bad}: "rds-multiaz" is not a policy of the pack\n`]);
  });

  test.each([
    [[], "give exactly one of --stack and --plan"],
    [["--stack", "staging", "--plan", FIXTURE], "give exactly one of --stack and --plan"],
    [["--stack"], "--stack needs a value"],
    [["--verbose"], 'unknown argument "--verbose"'],
  ])("%j is a usage error (exit 2)", async (argv, problem) => {
    const io = capture();
    expect(await runCli(argv, io)).toBe(EXIT.error);
    expect(io.err.join("")).toBe(
      `${problem}\nusage: npm run policy -- (--stack <name> | --plan <plan.json>) [--config <policy config.json>] [--json]\n`,
    );
  });
});
