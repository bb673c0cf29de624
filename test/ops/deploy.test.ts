/** `opsbook deploy --dry-run`: the window and the offline preconditions, against the fake `pulumi`. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { run } from "../../ops/cli";
import { parseSet } from "../../ops/commands/deploy";

const root = join(__dirname, "../..");
const SHA = "0123456789abcdef0123456789abcdef01234567";
const history = (): unknown[] =>
  JSON.parse(readFileSync(join(root, "test/fixtures/ops/history-production.json"), "utf8")) as unknown[];
const calendar = (anyTime: boolean) => ({
  anyTime,
  windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
  holidays: ["2026-12-25"],
  monthEndDays: 1,
  smokeChecks: {},
  timeZone: "Europe/London",
  notifyTopicArn: "arn:aws:sns:eu-west-1:123456789012:production-warning",
});

let dir: string;
const savedEnv = { ...process.env };
function scenario(extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, "scenario.json"),
    JSON.stringify({
      stacks: ["production", "staging"],
      history: history(),
      outputs: { deploy: calendar(false), clusterName: "opsbook-production" },
      // `pulumi config --json` of the stack file at HEAD: where --set finds each service's index.
      config: {
        "opsbook:services": { value: '[{"name":"api","tag":"1.4.1"},{"name":"web","tag":"1.4.1"}]', secret: false },
      },
      ...extra,
    }),
  );
}
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opsbook-deploy-"));
  process.env.PATH = `${join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  process.env.FAKE_PULUMI_SCENARIO = join(dir, "scenario.json");
  process.env.FAKE_PULUMI_LOG = join(dir, "calls.log");
  process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
  scenario();
});
afterAll(() => {
  process.env = savedEnv;
});

/** A Pulumi call that changes the stack: an update, or a config write (reading `config --json` changes nothing). */
const changes = (a: string[]): boolean => a[0] === "up" || (a[0] === "config" && !a.includes("--json"));
const calls = (): string[][] =>
  existsSync(join(dir, "calls.log"))
    ? readFileSync(join(dir, "calls.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { args: string[] }).args)
    : [];

/** A repository as git would report it: clean or not, on main or not. */
const fakeGit =
  (o: { dirty?: string; onMain?: boolean } = {}) =>
  (args: string[]): string => {
    if (args[0] === "status") return o.dirty ?? "";
    if (args[0] === "rev-parse" && args[1] === "HEAD") return SHA;
    if (args[0] === "rev-parse") return SHA;
    if (args[0] === "merge-base") {
      if (o.onMain === false) throw new Error("not an ancestor");
      return "";
    }
    throw new Error(`unexpected git ${args.join(" ")}`);
  };

const TUESDAY_11_LONDON = new Date("2026-11-10T11:00:00Z");
const FRIDAY_11_LONDON = new Date("2026-11-13T11:00:00Z");

async function deploy(argv: string[], at: Date, git = fakeGit()) {
  let stdout = "";
  let stderr = "";
  const code = await run(["deploy", ...argv], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => at,
    git,
  });
  return { code, stdout, stderr };
}

describe("opsbook deploy --dry-run (R-deploy-windows, R-deploy-pre-checks)", () => {
  test("inside the window on a clean commit of main: prints the steps and the config it would set, changes nothing", async () => {
    const r = await deploy(
      ["--stack", "production", "--set", "api=1.4.2,web=1.4.2", "--dry-run", "--json"],
      TUESDAY_11_LONDON,
    );
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(plan).toMatchObject({
      stack: "production",
      commit: SHA,
      window: { open: true, why: "inside the deploy window tue, wed 10:00-14:00 Europe/London" },
      config: { "opsbook:services[0].tag": "1.4.2", "opsbook:services[1].tag": "1.4.2" },
      message: "opsbook deploy tags api=1.4.2,web=1.4.2 at 0123456789ab",
    });
    expect(plan.steps).toEqual([
      "check that no critical alarm is firing",
      "take a manual RDS snapshot named for the deploy and wait until it is available",
      "set opsbook:services[0].tag=1.4.2, opsbook:services[1].tag=1.4.2",
      "update only the migration task definition, run the migration task, require exit code 0",
      'pulumi up with the message "opsbook deploy tags api=1.4.2,web=1.4.2 at 0123456789ab"',
      "verify each changed service: ECS deployment SUCCESSFUL, the stack's task definition running, /health 200, smoke checks",
      "watch the critical alarms and ECS deployments for 5 min; roll back on any failure",
    ]);
    expect(calls().some(changes)).toBe(false);
  }, 30_000);

  test.each<[string, string[], Date, ReturnType<typeof fakeGit>, number, RegExp]>([
    [
      "a Friday",
      [],
      FRIDAY_11_LONDON,
      fakeGit(),
      3,
      /closed for deploys: fri 2026-11-13 11:00 Europe\/London: no deploys on Fridays/,
    ],
    ["a dirty tree", [], TUESDAY_11_LONDON, fakeGit({ dirty: " M Pulumi.production.yaml" }), 3, /uncommitted changes/],
    ["a commit main does not contain", [], TUESDAY_11_LONDON, fakeGit({ onMain: false }), 3, /is not on origin\/main/],
    ["--force without --reason", ["--force"], FRIDAY_11_LONDON, fakeGit(), 2, /--force needs --reason/],
    [
      "a service the stack does not run",
      ["--set", "admin=2.0.0"],
      TUESDAY_11_LONDON,
      fakeGit(),
      2,
      /the stack file of production names no service "admin" \(it names: api, web\)/,
    ],
  ])(
    "refuses %s",
    async (_, extra, at, git, code, message) => {
      const r = await deploy(["--stack", "production", "--set", "api=1.4.2", "--dry-run", ...extra], at, git);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/what to do: /);
    },
    30_000,
  );

  test("a closed window names the next opening and the overrides", async () => {
    const r = await deploy(["--stack", "production", "--set", "api=1.4.2", "--dry-run"], FRIDAY_11_LONDON);
    expect(r.stderr).toMatch(/the next window opens 2026-11-17T10:00:00.000Z; a hotfix ships with --hotfix/);
  }, 30_000);

  test("refuses while the stack is in maintenance mode (the checks through the load balancer would get 503), unless forced", async () => {
    const maintenance = { enabled: true, allow: ["203.0.113.0/24"] };
    scenario({ outputs: { deploy: { ...calendar(false), maintenance }, clusterName: "opsbook-production" } });
    const refused = await deploy(["--stack", "production", "--dry-run"], TUESDAY_11_LONDON);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /stack production is in maintenance mode: the load balancer answers 503 except to 203\.0\.113\.0\/24/,
    );
    expect(refused.stderr).toMatch(/opsbook maintenance off --stack production/);
    const forced = await deploy(
      ["--stack", "production", "--dry-run", "--force", "--reason", "verify from the office"],
      TUESDAY_11_LONDON,
    );
    expect(forced.code).toBe(0);
    scenario({ outputs: { deploy: { ...calendar(false), maintenance: { enabled: false, allow: [] } } } });
    expect((await deploy(["--stack", "production", "--dry-run"], TUESDAY_11_LONDON)).code).toBe(0);
  }, 30_000);

  test("refuses while another update runs on the stack", async () => {
    const running = {
      ...(history()[1] as object),
      version: 8,
      result: "in-progress",
      endTime: undefined,
      resourceChanges: undefined,
    };
    scenario({ history: [running, ...history()] });
    const r = await deploy(["--stack", "production", "--set", "api=1.4.2", "--dry-run"], TUESDAY_11_LONDON);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/update v8 is still running on production/);
  }, 30_000);

  test("--hotfix ships on a Friday, is recorded in the message and watched 15 minutes", async () => {
    const r = await deploy(
      ["--stack", "production", "--set", "api=1.4.3", "--hotfix", "--dry-run", "--json"],
      FRIDAY_11_LONDON,
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { window: unknown; message: string; steps: string[] };
    expect(plan.window).toMatchObject({ open: false, override: "hotfix" });
    expect(plan.message).toBe("opsbook deploy tags api=1.4.3 at 0123456789ab (hotfix)");
    expect(plan.steps).toContain("watch the critical alarms and ECS deployments for 15 min; roll back on any failure");
  }, 30_000);

  test("--force --reason ships outside the window and records why", async () => {
    const r = await deploy(
      [
        "--stack",
        "production",
        "--set",
        "api=1.4.2",
        "--force",
        "--reason",
        "regulator deadline",
        "--dry-run",
        "--json",
      ],
      FRIDAY_11_LONDON,
    );
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { message: string }).message).toBe(
      "opsbook deploy tags api=1.4.2 at 0123456789ab (forced: regulator deadline)",
    );
  }, 30_000);

  test("staging deploys on a Friday night and does not ask whether main contains the commit", async () => {
    scenario({ outputs: { deploy: calendar(true) } });
    const r = await deploy(
      ["--stack", "staging", "--set", "web=2.0.0", "--dry-run"],
      new Date("2026-11-13T23:30:00Z"),
      fakeGit({ onMain: false }),
    );
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/would deploy staging at 0123456789ab:\n {2}1\. check that no critical alarm is firing/);
  }, 30_000);

  test("a stack without the deploy output says how to get it", async () => {
    scenario({ outputs: {} });
    const r = await deploy(["--stack", "production", "--set", "api=1.4.2", "--dry-run"], TUESDAY_11_LONDON);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no "deploy" output/);
  }, 30_000);

  test("without --dry-run, a stack whose outputs predate the deploy steps is told how to get them, and nothing changes", async () => {
    const r = await deploy(["--stack", "production", "--set", "api=1.4.2"], TUESDAY_11_LONDON);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no "databaseIdentifier" output/);
    expect(r.stderr).toMatch(/run a plain `pulumi up --stack production` once/);
    expect(calls().some(changes)).toBe(false);
  }, 30_000);

  test("without --set it ships the stack file as committed", async () => {
    const r = await deploy(["--stack", "production", "--dry-run", "--json"], TUESDAY_11_LONDON);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { config: unknown; steps: string[] };
    expect(plan.config).toEqual({});
    expect(plan.steps[2]).toBe("ship the stack file as committed (no --set)");
  }, 30_000);

  test.each([["api"], ["api=1.0.0=x"], ["api=bad tag"]])("--set %s is a usage error", (v) => {
    expect(() => parseSet([v])).toThrow(/expected <service>=<tag>/);
  });
});
