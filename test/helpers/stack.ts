/**
 * The plan of a shipped stack file, as `npm run plan -- --stack <s> --json` prints it, built once
 * per state of the sources and shared by every test file (and every jest worker) that reads it.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { PROTECTED_TYPES } from "../../lib/stateful";
import type { Plan } from "../../tools/plan/plan";
import type { RecordedResource } from "./mocks";

export type { Plan };

// Not tools/plan/plan's REPO_ROOT: that module loads @pulumi/pulumi, which reading a plan does not need.
const REPO_ROOT = join(__dirname, "..", "..");

/** Types whose loss loses data or keys: they carry `protect` when the stack asks for it. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set(PROTECTED_TYPES);

/**
 * What a plan is not made from: the tests (a changed test reads the same plan), the docs, the
 * caches and installed packages (their versions are in `package-lock.json`, which counts).
 * Everything else in the repository counts, including parts the program does not load today:
 * an unneeded rebuild costs seconds, a missed input would let tests pass on a stale plan.
 */
const NOT_PLAN_INPUTS = new Set(["node_modules", ".git", ".cache", "test", "tests", "docs", ".github"]);

function inputFiles(full: string): string[] {
  if (!fs.statSync(full).isDirectory()) return [full];
  return fs
    .readdirSync(full)
    .filter((name) => !NOT_PLAN_INPUTS.has(name) && !name.endsWith(".md") && !name.endsWith(".test.ts"))
    .sort()
    .flatMap((name) => inputFiles(join(full, name)));
}

/**
 * A digest of every file in `root` a plan may be made from (all but NOT_PLAN_INPUTS: the program,
 * the plan tool and its require hook, the project and stack files, the lockfile, ...), with their
 * paths, and of the node version: a change to any of them is a new key, so a cached plan is never
 * older than the sources.
 */
export function planSourceKey(root: string = REPO_ROOT): string {
  const hash = createHash("sha256").update(process.version);
  for (const file of inputFiles(root)) hash.update(`\0${relative(root, file)}\0`).update(fs.readFileSync(file));
  return hash.digest("hex").slice(0, 20);
}

/** Where the shared plans live: `.cache/plans/<source key>/<stack>.json` (`.cache/` is not committed). */
export const PLAN_CACHE = join(REPO_ROOT, ".cache", "plans");

/** A build another worker started this long ago and never finished has died: build again. */
const STALE_LOCK_MS = 180_000;

function runPlanTool(stack: string): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(
      process.execPath,
      ["-r", "./tools/register.js", "tools/plan.ts", "--stack", stack, "--json"],
      { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err ? fail(new Error(`npm run plan -- --stack ${stack} --json failed: ${stderr || err.message}`)) : ok(stdout),
    );
  });
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** The JSON plan of `stack` for the current sources: read from the cache, or built by the plan tool and cached. */
export async function cachedPlanJson(stack: string): Promise<string> {
  const dir = join(PLAN_CACHE, planSourceKey());
  const file = join(dir, `${stack}.json`);
  const lock = `${file}.lock`;
  fs.mkdirSync(dir, { recursive: true });
  for (;;) {
    if (fs.existsSync(file)) return fs.readFileSync(file, "utf8");
    let fd: number;
    try {
      fd = fs.openSync(lock, "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // Another worker builds this plan: wait for it rather than build it twice on two cores.
      const started = fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (started !== undefined && Date.now() - started > STALE_LOCK_MS) fs.rmSync(lock, { force: true });
      await sleep(50);
      continue;
    }
    fs.closeSync(fd);
    try {
      const json = await runPlanTool(stack);
      // Written whole, then renamed: a reader never sees half a plan.
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(`${file}.${process.pid}`, json);
      fs.renameSync(`${file}.${process.pid}`, file);
      removeOtherKeys(dir);
      return json;
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

/** Plans of older sources are never read again. */
function removeOtherKeys(current: string): void {
  for (const entry of fs.readdirSync(PLAN_CACHE)) {
    const dir = join(PLAN_CACHE, entry);
    if (dir !== current) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The plan of a shipped stack file (`Pulumi.<stack>.yaml` in the repository), exactly as the plan
 * tool prints it with `--json`. Built by the plan tool once for each state of the sources (see
 * `planSourceKey`) and then read by every test file that asks, so a whole-stack test file costs a
 * JSON parse, not a build. Tests of the build itself (a changed config, a mocked part) call
 * `buildPlan` and build.
 */
export async function planStack(stack: string): Promise<Plan> {
  return JSON.parse(await cachedPlanJson(stack)) as Plan;
}

export function stateful(plan: Plan): RecordedResource[] {
  return plan.resources.filter((r) => STATEFUL_TYPES.has(r.type));
}

/** One service as a stack file writes it (the keys the stack tests compare with the plan). */
export interface StackFileService {
  name: string;
  /** Absent: the service's repository in the stack. */
  image?: string;
  tag: string;
  paths?: string[];
  cpu: number;
  memory: number;
  desiredCount: number;
  minCount: number;
  maxCount: number;
}

/** The `opsbook:` config of `Pulumi.<stack>.yaml` as written, so tests compare the plan with the file, not with a copy. */
export function stackFileConfig(stack: string): {
  services: StackFileService[];
  network: { cidr: string };
  logRetentionDays: number;
} {
  const config = (
    parse(fs.readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }
  ).config;
  return {
    services: config["opsbook:services"] as StackFileService[],
    network: config["opsbook:network"] as { cidr: string },
    logRetentionDays: config["opsbook:logRetentionDays"] as number,
  };
}
