/**
 * The shell scripts the Deploy and Rollback workflows run (.github/scripts/), against a fake `gh`
 * (test/workflows/fake-gh/gh) that answers from JSON files, and real git repositories.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const SCRIPTS = path.join(ROOT, ".github", "scripts");
const FAKE_GH_BIN = path.join(__dirname, "fake-gh");
const SHA = "a".repeat(40);
const NEWER = "b".repeat(40);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
  calls: string[];
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-wf-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes the fake gh's answers: `{ "main.json": {...}, "runs-rollback.yml": [...] }`. */
function answers(files: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), JSON.stringify(value));
}

function run(script: string, env: Record<string, string>, cwd = dir): Run {
  const output = path.join(dir, "github-output");
  fs.writeFileSync(output, "");
  const r = spawnSync("bash", [path.join(SCRIPTS, script)], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: `${FAKE_GH_BIN}:${process.env.PATH ?? ""}`,
      HOME: dir,
      FAKE_GH: dir,
      GITHUB_OUTPUT: output,
      REPO: "acme/opsbook",
      ...env,
    },
  });
  const log = path.join(dir, "calls.log");
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    output: fs.readFileSync(output, "utf8"),
    calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [],
  };
}

describe("deploy-preflight.sh: a deploy job's first step", () => {
  const preflight = (stack = "production") => run("deploy-preflight.sh", { STACK: stack, SHA });

  test("main has moved on: deploys nothing, without failing, and says which run deploys", () => {
    answers({ "main.json": { sha: NEWER } });
    const r = preflight();
    expect(r.code).toBe(0);
    expect(r.output).toBe("current=false\n");
    expect(r.stdout).toContain(`::notice title=Superseded::main is at ${NEWER} now, not at this run's ${SHA}`);
    expect(r.calls).toEqual(["api repos/acme/opsbook/commits/main --jq .sha"]);
  });

  test("a rollback of the stack queued, waiting or running stops the deploy", () => {
    for (const status of ["queued", "waiting", "in_progress", "pending"]) {
      answers({
        "main.json": { sha: SHA },
        "runs-rollback.yml": [
          { databaseId: 7, status: "completed", displayTitle: "Rollback production" },
          { databaseId: 8, status, displayTitle: "Rollback production" },
        ],
      });
      const r = preflight();
      expect(r.code).toBe(1);
      expect(r.output).toBe("");
      expect(r.stdout).toContain("::error title=Rollback of production in progress::Rollback run(s) 8 of production");
    }
  });

  test("a rollback of another stack, or a finished one, does not", () => {
    answers({
      "main.json": { sha: SHA },
      "runs-rollback.yml": [
        { databaseId: 7, status: "completed", displayTitle: "Rollback production" },
        { databaseId: 8, status: "in_progress", displayTitle: "Rollback staging" },
      ],
      "prs.json": [{ number: 12, headRefName: "opsbook-rollback/staging/v3-from-v4" }],
    });
    const r = preflight();
    expect(r.code).toBe(0);
    expect(r.output).toBe("current=true\n");
  });

  test("an open revert pull request of the stack stops the deploy", () => {
    answers({
      "main.json": { sha: SHA },
      "prs.json": [
        { number: 11, headRefName: "feature/x" },
        { number: 12, headRefName: "opsbook-rollback/production/v3-from-v4" },
      ],
    });
    const r = preflight();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error title=Revert pull request open::production was rolled back");
    expect(r.stdout).toContain("merge (or close) #12 first");
  });

  test("main's head, nothing pending: deploys", () => {
    answers({ "main.json": { sha: SHA } });
    const r = preflight("staging");
    expect(r.code).toBe(0);
    expect(r.output).toBe("current=true\n");
    expect(r.calls).toEqual([
      "api repos/acme/opsbook/commits/main --jq .sha",
      "run list --repo acme/opsbook --workflow rollback.yml --limit 100 --json databaseId,status,displayTitle",
      "pr list --repo acme/opsbook --state open --limit 100 --json number,headRefName",
    ]);
  });
});

describe("wait-for-stack.sh: the rollback waits for a running deploy of its stack", () => {
  const wait = (env: Record<string, string> = {}) =>
    run("wait-for-stack.sh", {
      STACK: "production",
      GITHUB_RUN_ID: "500",
      WAIT_SECONDS: "0",
      POLL_SECONDS: "0",
      ...env,
    });
  const deployRun = (jobs: Array<{ name: string; status: string }>) => ({
    "runs-deploy.yml": [
      { databaseId: 41, status: "in_progress" },
      { databaseId: 40, status: "completed" },
    ],
    "jobs-41.json": { jobs },
  });

  test("a running deploy job of the stack keeps it waiting, up to WAIT_SECONDS", () => {
    answers(deployRun([{ name: "Deploy production", status: "in_progress" }]));
    const r = wait();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error title=Stack busy::After 0s these still run on production: deploy run 41");
    expect(r.calls).not.toContainEqual(expect.stringMatching(/^run view 40/));
  });

  test("a deploy run that is busy with another stack, or waiting for approval, does not", () => {
    answers(
      deployRun([
        { name: "Deploy staging", status: "in_progress" },
        { name: "Deploy production", status: "waiting" },
      ]),
    );
    const r = wait();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No deploy or earlier rollback of production is running.");
  });

  test("an earlier rollback of the stack keeps it waiting; a later one does not (no deadlock)", () => {
    answers({
      "runs-rollback.yml": [
        { databaseId: 499, status: "in_progress", displayTitle: "Rollback production" },
        { databaseId: 501, status: "in_progress", displayTitle: "Rollback production" },
      ],
    });
    expect(wait().stdout).toContain("these still run on production: rollback run 499");
    expect(wait({ GITHUB_RUN_ID: "498" }).code).toBe(0);
  });

  test("starts as soon as the deploy ends", () => {
    answers({
      "runs-deploy.yml": [{ databaseId: 41, status: "in_progress" }],
      "jobs-41.json.1": { jobs: [{ name: "Deploy production", status: "in_progress" }] },
      "jobs-41.json.2": { jobs: [{ name: "Deploy production", status: "completed" }] },
    });
    const r = wait({ WAIT_SECONDS: "60" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Waiting for: deploy run 41");
    expect(r.calls.filter((c) => c.startsWith("run view 41"))).toHaveLength(2);
  });
});

describe("open-revert-pr.sh: main's stack file back to the rolled-back-to version's", () => {
  const gitEnv = {
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.com",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.com",
  };
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, ...gitEnv } }).trim();

  /** An origin with two commits of Pulumi.production.yaml, and a clone of main. */
  function repos(): { clone: string; good: string; origin: string } {
    const origin = path.join(dir, "origin.git");
    const clone = path.join(dir, "clone");
    git(dir, "init", "--quiet", "--bare", "--initial-branch=main", origin);
    git(dir, "init", "--quiet", "--initial-branch=main", clone);
    git(clone, "remote", "add", "origin", origin);
    fs.writeFileSync(path.join(clone, "Pulumi.production.yaml"), "config:\n  opsbook:services:\n    - tag: 1.4.1\n");
    git(clone, "add", ".");
    git(clone, "commit", "--quiet", "-m", "1.4.1");
    const good = git(clone, "rev-parse", "HEAD");
    fs.writeFileSync(path.join(clone, "Pulumi.production.yaml"), "config:\n  opsbook:services:\n    - tag: 1.4.2\n");
    git(clone, "commit", "--quiet", "-am", "1.4.2");
    git(clone, "push", "--quiet", "origin", "main");
    return { clone, good, origin };
  }
  const revert = (clone: string, commit: string) =>
    run(
      "open-revert-pr.sh",
      { STACK: "production", FROM: "9", TO: "8", COMMIT: commit, RUN_URL: "https://example.test/run/1", ...gitEnv },
      clone,
    );

  test("pushes a branch with the earlier stack file and opens the pull request onto main", () => {
    const { clone, good, origin } = repos();
    const r = revert(clone, good);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const branch = "opsbook-rollback/production/v8-from-v9";
    expect(git(origin, "show", `${branch}:Pulumi.production.yaml`)).toBe(
      git(origin, "show", `${good}:Pulumi.production.yaml`),
    );
    expect(git(origin, "rev-parse", `${branch}^`)).toBe(git(origin, "rev-parse", "main"));
    expect(git(origin, "log", "-1", "--format=%s", branch)).toBe("Roll back Pulumi.production.yaml to v8 (from v9)");
    const calls = r.calls.join("\n");
    expect(calls.match(/^pr create/gm)).toHaveLength(1);
    expect(calls).toContain("Deploys of `production` stop until this pull request is merged or closed.");
    expect(calls).toMatch(
      /^pr create --repo acme\/opsbook --base main --head opsbook-rollback\/production\/v8-from-v9 --title Roll back Pulumi\.production\.yaml to v8 \(from v9\) --body Rollback run: https:\/\/example\.test\/run\/1/,
    );
  });

  test("nothing to revert when main already has that stack file", () => {
    const { clone } = repos();
    const r = revert(clone, git(clone, "rev-parse", "HEAD"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("::notice title=Nothing to revert::");
    expect(r.calls).toEqual([]);
  });

  test("a commit without the stack file fails and says what to do", () => {
    const { clone } = repos();
    git(clone, "rm", "--quiet", "Pulumi.production.yaml");
    git(clone, "commit", "--quiet", "-m", "gone");
    const r = revert(clone, git(clone, "rev-parse", "HEAD"));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error title=No stack file::");
    expect(fs.existsSync(path.join(clone, "Pulumi.production.yaml.rollback"))).toBe(false);
    expect(r.calls).toEqual([]);
  });
});
