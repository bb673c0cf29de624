import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDiffArgs } from "../../../tools/diff/args";
import { planAtRef, resolveCommit, runPlan } from "../../../tools/diff/basePlan";
import { database, plan, RDS, resource } from "./builders";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const DIFF = [path.join(REPO_ROOT, "tools", "diff.ts")];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-diff-cli-"));
const oldRepo = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-diff-old-"));
afterAll(() => [dir, oldRepo].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function writePlan(name: string, ...resources: ReturnType<typeof resource>[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(plan(...resources)));
  return file;
}

const base = writePlan("base.json", resource(RDS, "db", database));
const harmless = writePlan(
  "harmless.json",
  resource(RDS, "db", { ...database, tags: { service: "postgres", owner: "platform" } }),
);
const risky = writePlan("risky.json", resource(RDS, "db", { ...database, deletionProtection: false }));

/** One spawned `npm run diff` (about a second each: keep them few). */
function runDiff(...args: string[]) {
  return spawnSync(process.execPath, ["-r", path.join(REPO_ROOT, "tools", "register.js"), ...DIFF, ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
}

describe("npm run diff exit codes", () => {
  test("0 for harmless changes, with the change listed", () => {
    const run = runDiff("--base-plan", base, "--head-plan", harmless);
    expect([run.status, run.stderr]).toEqual([0, ""]);
    expect(run.stdout.split("\n").slice(0, 2)).toEqual([
      "opsbook / production: 1 change, 0 risky (from offline plans of the base and the head: replacements estimated from known replacing inputs)",
      "  0 to create, 1 to update, 0 to replace, 0 to delete; 0 unchanged",
    ]);
    // The cost change comes last; the class of this database is not in the price table.
    expect(run.stdout).toMatch(
      /\nMonthly cost: \$0\.00 → \$0\.00 \(\$0\.00 a month; on-demand estimate in eu-west-1, [^)]*\)\n {5}unknown {2}~ {2}aws:rds\/instance:Instance {2}db /,
    );
  });

  test("2 for risky changes", () => {
    const run = runDiff("--base-plan", base, "--head-plan", risky, "--format", "json");
    expect(run.status).toBe(2);
    const out = JSON.parse(run.stdout) as { risks: Array<{ kind: string; detail: string }> };
    expect(out.risks.map((r) => [r.kind, r.detail])).toEqual([
      ["deletion-protection-off", "deletionProtection true → false"],
    ]);
  });

  test("1 for an input that is not a plan, with the fix", () => {
    const preview = path.join(REPO_ROOT, "test", "fixtures", "diff", "preview-production.json");
    const run = runDiff("--base-plan", base, "--head-plan", preview);
    expect([run.status, run.stdout]).toEqual([1, ""]);
    expect(run.stderr).toBe(
      `"${preview}" is not an offline plan: it has no "stack" and "project" strings. Produce one with: npm run plan -- --stack <name> --json > plan.json\n`,
    );
  });
});

describe("parseDiffArgs", () => {
  test("reads each source and the format", () => {
    expect(parseDiffArgs(["--stack", "staging", "--base", "origin/main", "--format=markdown"])).toEqual({
      stack: "staging",
      base: "origin/main",
      format: "markdown",
    });
    expect(parseDiffArgs(["--preview", "-"])).toEqual({ preview: "-", format: "text" });
  });

  test.each([
    [["--base", "main"], "--base needs --stack <name>, e.g. --stack staging"],
    [["--base-plan", "a.json"], "--base-plan and --head-plan go together: give both files"],
    [
      ["--preview", "p.json", "--base", "main", "--stack", "s"],
      "give exactly one of --base, --base-plan with --head-plan, or --preview",
    ],
    [["--preview", "p.json", "--format", "html"], '--format "html" is not a format: use one of text, markdown, json'],
    [["--preview"], "--preview needs a value"],
    [["--stacks", "staging"], 'unknown argument "--stacks"'],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseDiffArgs(argv)).toThrow(message);
  });
});

describe("the plan at a git ref", () => {
  function worktrees(root: string): string {
    return execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: root, encoding: "utf8" });
  }

  /** The temporary base worktrees registered in a repository (other worktrees come and go as others work). */
  function baseWorktrees(root: string): string[] {
    return worktrees(root)
      .split("\n")
      .filter((line) => line.startsWith("worktree ") && line.includes("opsbook-diff-base-"));
  }

  test("--base HEAD builds this repository's plan in a temporary worktree, then removes it", async () => {
    // Its own temporary folder, so base worktrees of other runs in this repository do not count.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-diff-test-"));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    let basePlan: Awaited<ReturnType<typeof planAtRef>>;
    try {
      basePlan = await planAtRef(REPO_ROOT, "HEAD", "staging");
      expect(baseWorktrees(REPO_ROOT).filter((w) => w.includes(tmp))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    expect([basePlan.stack, basePlan.project]).toEqual(["staging", "opsbook"]);
    expect(basePlan.resources.filter((r) => r.type === "aws:ec2/vpc:Vpc").map((r) => r.urn)).toEqual([
      "urn:pulumi:staging::opsbook::opsbook:network:Network$aws:ec2/vpc:Vpc::staging-vpc",
    ]);
  }, 30_000); // one offline plan in a child process: about a second, more on a loaded machine

  test("a ref from before the offline plan is refused, and its worktree removed all the same", async () => {
    const repo = oldRepo;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" });
    git("init", "--quiet");
    fs.writeFileSync(path.join(repo, "Pulumi.yaml"), "name: opsbook\n");
    git("add", ".");
    git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "before the plan");
    const before = worktrees(repo);
    const sha = resolveCommit(repo, "HEAD");
    await expect(planAtRef(repo, "HEAD", "staging")).rejects.toThrow(
      `--base HEAD (${sha.slice(0, 12)}) predates the offline plan (it has no tools/plan.ts)`,
    );
    expect(worktrees(repo)).toBe(before);
  });

  test("a plan whose caller stops it (the other side of the diff failed) is killed, not left running", async () => {
    const stop = new AbortController();
    const running = runPlan(REPO_ROOT, "staging", "the working tree", stop.signal);
    stop.abort();
    // Node kills the child on abort and rejects with AbortError rather than the plan's own exit.
    await expect(running).rejects.toMatchObject({ name: "AbortError" });
  });

  test("an unknown ref names the fix", () => {
    expect(() => resolveCommit(REPO_ROOT, "no-such-branch")).toThrow(
      `--base "no-such-branch" names no commit in ${REPO_ROOT}. Pass a branch, tag or commit that exists here, or fetch it first (git fetch origin <branch>)`,
    );
  });
});
