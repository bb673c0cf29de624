/**
 * The opsbook command end to end in-process: the Automation API runs the fake `pulumi` in
 * test/ops/fake-pulumi (put first on PATH), which replays the recorded CLI output.
 */
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderHelp } from "../../ops/args";
import { run, toolHelp } from "../../ops/cli";
import { deploySpec } from "../../ops/commands/deploy";
import { historySpec } from "../../ops/commands/history";
import { rollbackSpec } from "../../ops/commands/rollback";
import { planStack } from "../helpers/stack";

const root = join(__dirname, "../..");
const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();

// Real commits of this repository stand in for the recorded ones, so a rollback can check them out.
// HEAD only: CI may clone one commit deep.
const commits = { COMMIT_B: git("rev-parse", "HEAD") };
const recordedHistory = (): unknown[] =>
  JSON.parse(
    readFileSync(join(root, "test/fixtures/ops/history-production.json"), "utf8").replace(
      /COMMIT_[A-E]/g,
      (c) => commits[c as keyof typeof commits] ?? c.toLowerCase().padEnd(40, "0"),
    ),
  ) as unknown[];

let dir: string;
let logFile: string;

function scenario(extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, "scenario.json"),
    JSON.stringify({ stacks: ["production", "staging"], history: recordedHistory(), outputs: {}, ...extra }),
  );
}

const calls = (): Array<{ args?: string[]; cwd?: string; signal?: string; waiting?: boolean }> =>
  existsSync(logFile)
    ? readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args?: string[] })
    : [];

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
  dir = mkdtempSync(join(tmpdir(), "opsbook-cli-"));
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

describe("opsbook --help", () => {
  test("the tool's help lists every command and the exit codes", async () => {
    const { code, stdout } = await opsbook(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toBe(toolHelp());
    for (const word of ["deploy", "rollback", "history", "--stack", "--json", "Exit codes", "Ctrl-C"])
      expect(stdout).toContain(word);
  });

  test.each([deploySpec, rollbackSpec, historySpec])("$name --help describes every flag", async (spec) => {
    const { code, stdout } = await opsbook([spec.name, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toBe(renderHelp(spec));
    for (const f of [...spec.flags.map((x) => x.name), "stack", "json", "help"])
      expect(stdout).toMatch(new RegExp(`--${f}\\b.* \\w`));
  });

  test.each<[string[], RegExp]>([
    [["rollback"], /--stack <stack> is required/],
    [["rollback", "--stack", "production", "--too", "3"], /unknown flag --too/],
    [["rollback", "--stack", "production", "--to", "latest"], /--to latest: not a version number/],
    [["deplo", "--stack", "production"], /unknown command "deplo"/],
    [["history", "--stack"], /--stack needs a value/],
  ])("a bad command line exits 2 and says what to run: %j", async (argv, message) => {
    const { code, stderr } = await opsbook(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/what to do: run: opsbook .*--help/);
    expect(calls()).toEqual([]);
  });
});

describe("opsbook rollback --dry-run --json", () => {
  test("prints { stack, from, to, commit, config } from the history alone, secrets hidden, and changes nothing", async () => {
    const { code, stdout, stderr } = await opsbook(["rollback", "--stack", "production", "--dry-run", "--json"]);
    expect(stderr).not.toMatch(/what to do/);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      stack: "production",
      from: 6,
      to: 5,
      commit: commits.COMMIT_B,
      config: {
        "aws:region": "eu-west-1",
        "opsbook:environment": "production",
        "opsbook:services": '[{"name":"api","tag":"1.1.0"},{"name":"web","tag":"1.1.0"}]',
        "opsbook:pagerToken": "[secret]",
      },
    });
    expect(stderr).toMatch(/\[1\] select stack production \.\.\.\n\[1\] select stack production: done in \d+\.\d s/);
    expect(stderr).toMatch(/\[3\] choose the version to return to: done in .*: v6 -> v5/);
    expect(stderr).toMatch(/\[4\] apply the earlier version: skipped \(dry run\)/);
    const commands = calls().map((c) => c.args!.slice(0, 2).join(" "));
    expect(commands).toContain("stack history");
    expect(commands.some((c) => /^(up|config)/.test(c))).toBe(false);
    expect(calls().find((c) => c.args![1] === "history")!.args).toEqual(
      expect.arrayContaining(["stack", "history", "--json", "--show-secrets", "--stack", "production"]),
    );
  }, 30_000);

  test("--to an update that was rolled back is refused with exit 3", async () => {
    const { code, stderr } = await opsbook(["rollback", "--stack", "production", "--to", "4", "--dry-run"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/no rollback for stack production: v4 was rolled back by a later rollback/);
    expect(stderr).toMatch(/what to do: pick another version from `opsbook history`/);
  }, 30_000);

  test("an unknown stack fails with exit 1 and says how to list stacks", async () => {
    const { code, stderr } = await opsbook(["rollback", "--stack", "qa", "--dry-run"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot select stack "qa"/);
    expect(stderr).toMatch(/pulumi stack ls/);
  }, 30_000);
});

describe("opsbook rollback", () => {
  test("checks out the target's commit in a worktree, applies its config, and runs up with a message marking the bad version", async () => {
    const { code, stdout, stderr } = await opsbook(["rollback", "--stack", "production", "--reason", "5xx at 12 %"]);
    expect(stderr).not.toMatch(/what to do/);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /rolled back production from v6 to v5: initiated in .* \(runbook 004: under 5 min\), completed in/,
    );
    const setAll = calls().find((c) => c.args![0] === "config")!;
    expect(setAll.args).toEqual(
      expect.arrayContaining(["config", "set-all", "--stack", "production", "--plaintext", "aws:region=eu-west-1"]),
    );
    expect(setAll.args).toEqual(expect.arrayContaining(["--secret", "opsbook:pagerToken=s3cr3t-value"]));
    const up = calls().find((c) => c.args![0] === "up")!;
    expect(up.args).toEqual(
      expect.arrayContaining([
        "up",
        "--yes",
        "--skip-preview",
        "--message",
        "opsbook rollback from v6 to v5: 5xx at 12 %",
      ]),
    );
    expect(up.cwd).toMatch(/opsbook-rollback-/);
    expect(up.cwd).not.toBe(root);
    // The worktree is gone afterwards.
    expect(existsSync(up.cwd!)).toBe(false);
    expect(git("worktree", "list")).not.toContain(up.cwd!);
  }, 60_000);

  test("a failed up exits 1 with Pulumi's error and the worktree is removed", async () => {
    scenario({ up: { exitCode: 255, stderr: "error: update failed\n" } });
    const { code, stderr } = await opsbook(["rollback", "--stack", "production"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/the rollback update failed/);
    expect(stderr).toMatch(/pulumi up \(v6 -> v5\): FAILED/);
    const up = calls().find((c) => c.args![0] === "up")!;
    expect(existsSync(up.cwd!)).toBe(false);
  }, 60_000);

  test("Ctrl-C during the update sends Pulumi SIGINT (it cancels the update) and exits 130", async () => {
    scenario({ up: { waitForSignal: true } });
    const controller = new AbortController();
    const pending = opsbook(["rollback", "--stack", "production"], controller.signal);
    for (let i = 0; i < 200 && !calls().some((c) => c.waiting); i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const { code, stderr } = await pending;
    expect(calls().some((c) => c.signal === "SIGINT")).toBe(true);
    expect(code).toBe(130);
    expect(stderr).toMatch(/the rollback update was interrupted; the update was cancelled/);
  }, 60_000);
});

describe("opsbook history", () => {
  test("--json lists the deployments newest first", async () => {
    const { code, stdout } = await opsbook(["history", "--stack", "production", "--json"]);
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout) as {
      stack: string;
      deployments: Array<{ version: number; rolledBack: boolean }>;
    };
    expect(parsed.stack).toBe("production");
    expect(parsed.deployments.map((d) => [d.version, d.rolledBack])).toEqual([
      [6, false],
      [5, false],
      [4, true],
      [3, false],
      [2, false],
      [1, false],
    ]);
  }, 30_000);

  test("--markdown prints the table", async () => {
    const { code, stdout } = await opsbook(["history", "--stack", "production", "--markdown"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^## Deployments of production\n/);
    expect(stdout).toContain("| v5 (rollback of v4) |");
  }, 30_000);
});

describe("the bin", () => {
  test("npx opsbook --help runs the same help through ops/opsbook.js", () => {
    const r = spawnSync(process.execPath, [join(root, "ops/opsbook.js"), "rollback", "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(renderHelp(rollbackSpec));
  });
});

describe("a stack with its data on the cluster (opsbook:data.platform: kubernetes, the local stack)", () => {
  const REFUSED =
    /stack local keeps its data on the cluster \(opsbook:data\.platform: kubernetes\): opsbook (deploy|rollback) needs the AWS data tier/;
  const HINT = /what to do: update the stack with `pulumi up --stack local`; to go back, check out the earlier commit/;

  test("deploy is refused (exit 3) on the stack outputs the program declares, before anything changes", async () => {
    const { outputs } = await planStack("local");
    expect(outputs.dataPlatform).toBe("kubernetes");
    scenario({ stacks: ["local"], outputs });
    const { code, stderr } = await opsbook(["deploy", "--stack", "local"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(REFUSED);
    expect(stderr).toMatch(HINT);
    // Only reads: the stack, its outputs (masked, then with secrets); `pulumi version` once per process.
    const commands = calls().map((c) => c.args!.slice(0, 2).join(" "));
    expect(commands.filter((c) => c !== "version")).toEqual(["stack select", "stack output", "stack output"]);
  });

  test("deploy is refused as well on a local stack last updated before the dataPlatform output existed", async () => {
    const { outputs } = await planStack("local");
    const { dataPlatform: _, ...older } = outputs;
    expect(older.objectStoreEndpoint).toEqual(expect.any(String));
    scenario({ stacks: ["local"], outputs: older });
    const { code, stderr } = await opsbook(["deploy", "--stack", "local"]);
    expect(code).toBe(3);
    expect(stderr).toMatch(REFUSED);
  });

  test("rollback is refused (exit 3) by the config the update to return to recorded, before anything changes", async () => {
    const onCluster = { value: '{"platform":"kubernetes"}', objectValue: { platform: "kubernetes" }, secret: false };
    const history = (recordedHistory() as Array<{ config: Record<string, unknown> }>).map((u) => ({
      ...u,
      config: { ...u.config, "opsbook:data": onCluster },
    }));
    scenario({ stacks: ["local"], history });
    for (const argv of [[], ["--dry-run"]]) {
      const { code, stderr } = await opsbook(["rollback", "--stack", "local", ...argv]);
      expect(code).toBe(3);
      expect(stderr).toMatch(REFUSED);
      expect(stderr).toMatch(HINT);
    }
    expect(calls().some((c) => /^(up|config)$/.test(c.args![0]!))).toBe(false);
  });
});
