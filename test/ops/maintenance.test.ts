/**
 * `opsbook maintenance on|off` end to end in-process (R-ops-maintenance-mode): the Automation API
 * runs the fake `pulumi` in test/ops/fake-pulumi, which replays the recordings in
 * test/fixtures/ops/maintenance/.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderHelp } from "../../ops/args";
import { run, toolHelp } from "../../ops/cli";
import { maintenanceSpec } from "../../ops/commands/maintenance";

const recording = JSON.parse(
  readFileSync(join(__dirname, "../fixtures/ops/maintenance/scenario.json"), "utf8"),
) as Record<string, unknown>;

let dir: string;
let logFile: string;

function scenario(extra: Record<string, unknown> = {}): void {
  writeFileSync(join(dir, "scenario.json"), JSON.stringify({ ...recording, ...extra }));
}

const calls = (): Array<{ args?: string[]; cwd?: string; signal?: string; waiting?: boolean }> =>
  existsSync(logFile)
    ? readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args?: string[] })
    : [];
const pulumiCalls = (...first: string[]) =>
  calls()
    .map((c) => c.args ?? [])
    .filter((a) => first.every((w, i) => a[i] === w));

async function opsbook(argv: string[], signal?: AbortSignal) {
  let stdout = "";
  let stderr = "";
  const code = await run(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    ...(signal ? { signal } : {}),
  });
  return { code, stdout, stderr };
}

const savedEnv = { ...process.env };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opsbook-maintenance-"));
  logFile = join(dir, "calls.log");
  process.env.PATH = `${join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  process.env.FAKE_PULUMI_SCENARIO = join(dir, "scenario.json");
  process.env.FAKE_PULUMI_LOG = logFile;
  process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
  scenario();
});
afterAll(() => {
  process.env = savedEnv;
});

describe("opsbook maintenance --help", () => {
  test("is listed by the tool and describes every flag", async () => {
    expect(toolHelp()).toMatch(/\n {2}maintenance +Switch maintenance mode on or off/);
    const { code, stdout } = await opsbook(["maintenance", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toBe(renderHelp(maintenanceSpec));
    expect(stdout).toMatch(/^Usage: opsbook maintenance on\|off --stack <stack> \[flags\]/);
    for (const flag of ["--allow <cidr>", "--stack <stack>", "--json", "--help"]) expect(stdout).toContain(flag);
    expect(stdout).toContain("opsbook:maintenance.message and .retryAfterSeconds");
  });

  test.each<[string[], RegExp]>([
    [["maintenance", "--stack", "production"], /on or off is required/],
    [["maintenance", "pause", "--stack", "production"], /"pause": expected on or off/],
    [["maintenance", "on"], /--stack <stack> is required/],
    [
      ["maintenance", "on", "--stack", "production", "--allow", "203.0.113.7"],
      /--allow 203\.0\.113\.7: not an IPv4 CIDR block/,
    ],
    [["maintenance", "off", "--stack", "production", "--allow", "203.0.113.0/24"], /--allow goes with on/],
    [
      ["maintenance", "on", "--stack", "production", "--allow", "203.0.113.0/24,203.0.113.0/24"],
      /--allow lists a block twice/,
    ],
    [["maintenance", "on", "off", "--stack", "production"], /unexpected argument "off"/],
  ])("%j is a usage error (exit 2) and runs no pulumi", async (argv, message) => {
    const { code, stderr } = await opsbook(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("what to do: run: opsbook maintenance --help");
    expect(calls()).toEqual([]);
  });
});

describe("opsbook maintenance on|off", () => {
  test("on --allow replaces the allow list, sets enabled and runs up with a message saying so", async () => {
    const { code, stdout, stderr } = await opsbook([
      "maintenance",
      "on",
      "--stack",
      "production",
      "--allow",
      "203.0.113.0/24",
      "--allow",
      "198.51.100.7/32",
    ]);
    expect(stderr).not.toMatch(/what to do/);
    expect(code).toBe(0);
    // The old list goes first, then the new keys, then the update: in that order.
    const order = calls()
      .map((c) => c.args ?? [])
      .filter((a) => a[0] === "config" || a[0] === "up")
      .map((a) => `${a[0]} ${a[1]}`);
    expect(order).toEqual(["config rm", "config set-all", "up --yes"]);
    expect(pulumiCalls("config", "rm")[0]).toEqual(
      expect.arrayContaining(["opsbook:maintenance.allow", "--stack", "production", "--path"]),
    );
    const setAll = pulumiCalls("config", "set-all")[0]!;
    expect(setAll).toEqual(
      expect.arrayContaining([
        "--path",
        "--plaintext",
        "opsbook:maintenance.enabled=true",
        "opsbook:maintenance.allow[0]=203.0.113.0/24",
        "opsbook:maintenance.allow[1]=198.51.100.7/32",
      ]),
    );
    expect(pulumiCalls("up")[0]).toEqual(
      expect.arrayContaining(["--message", "opsbook maintenance on (allow 203.0.113.0/24, 198.51.100.7/32)"]),
    );
    // Progress step by step, with Pulumi's own output streamed under the update.
    expect(stderr).toMatch(/\[1\] select stack production: done/);
    expect(stderr).toMatch(
      /\[2\] set opsbook:maintenance.enabled to true and the allow list in Pulumi.production.yaml: done/,
    );
    expect(stderr).toMatch(
      /\[3\] pulumi up \(opsbook maintenance on \(allow 203.0.113.0\/24, 198.51.100.7\/32\)\) \.\.\./,
    );
    expect(stderr).toContain("production-maintenance          created (1s)");
    expect(stdout).toBe(
      "maintenance is ON for production: every request gets the 503 maintenance page except from 203.0.113.0/24, 198.51.100.7/32; the services keep running. Commit Pulumi.production.yaml; `opsbook maintenance off --stack production` ends it.\n",
    );
  }, 60_000);

  test("on without --allow keeps the stack file's list; --json prints what was set", async () => {
    const { code, stdout } = await opsbook(["maintenance", "on", "--stack", "staging", "--json"]);
    expect(code).toBe(0);
    expect(pulumiCalls("config", "rm")).toEqual([]);
    expect(pulumiCalls("config", "set-all")[0]).toEqual(
      expect.arrayContaining(["--stack", "staging", "--path", "opsbook:maintenance.enabled=true"]),
    );
    expect(pulumiCalls("config", "set-all")[0]!.some((a) => a.includes("allow"))).toBe(false);
    expect(JSON.parse(stdout)).toEqual({
      stack: "staging",
      maintenance: "on",
      config: { "opsbook:maintenance.enabled": "true" },
      message: "opsbook maintenance on",
    });
  }, 60_000);

  test("off sets enabled false and keeps the allow list", async () => {
    const { code, stdout } = await opsbook(["maintenance", "off", "--stack", "production"]);
    expect(code).toBe(0);
    expect(pulumiCalls("config", "rm")).toEqual([]);
    expect(pulumiCalls("config", "set-all")[0]).toEqual(
      expect.arrayContaining(["--path", "opsbook:maintenance.enabled=false"]),
    );
    expect(pulumiCalls("up")[0]).toEqual(expect.arrayContaining(["--message", "opsbook maintenance off"]));
    expect(stdout).toBe(
      "maintenance is OFF for production: the services answer again. Commit Pulumi.production.yaml.\n",
    );
  }, 60_000);

  test("a failed up exits 1 and says the stack file already changed", async () => {
    scenario({ up: { exitCode: 255, stderr: "error: update failed\n" } });
    const { code, stderr } = await opsbook(["maintenance", "on", "--stack", "production"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/the maintenance update failed/);
    expect(stderr).toMatch(
      /Pulumi.production.yaml already says enabled: true: rerun `opsbook maintenance on --stack production`/,
    );
  }, 60_000);

  test("an unknown stack fails before any config is set", async () => {
    const { code, stderr } = await opsbook(["maintenance", "on", "--stack", "qa"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot select stack "qa"/);
    expect(pulumiCalls("config")).toEqual([]);
  }, 60_000);

  test("Ctrl-C during the update cancels it (SIGINT to Pulumi) and exits 130", async () => {
    scenario({ up: { waitForSignal: true } });
    const controller = new AbortController();
    const pending = opsbook(["maintenance", "off", "--stack", "production"], controller.signal);
    for (let i = 0; i < 200 && !calls().some((c) => c.waiting); i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const { code, stderr } = await pending;
    expect(calls().some((c) => c.signal === "SIGINT")).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/the maintenance update was interrupted; the update was cancelled/);
  }, 60_000);
});
