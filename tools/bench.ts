/**
 * `npm run bench [-- --runs N] [--skip-checks]`: the offline plan of each stack against the floor (a
 * bare node that only loads @pulumi/pulumi and @pulumi/aws), measured in pairs run back to back
 * (floor, plan, floor, plan, ...) so that the machine's drift moves both sides of a ratio alike;
 * the median and range of the pair ratios in wall time and peak memory (GNU time where installed,
 * else the process's own maxRSS), for staging, production
 * and a generated 30-service stack; the policy run and the diff of production in the same way;
 * then the type-check, the linters and jest over several runs. A benchmark, not a test: it prints
 * the figures beside their targets and judges nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const REGISTER = ["-r", path.join(ROOT, "tools", "register.js")];
const USAGE_HOOK = ["-r", path.join(ROOT, "tools", "bench", "usage.js")];

interface Run {
  seconds: number;
  /** Peak resident memory in MiB. */
  peakMiB: number;
}

/** GNU time reports the peak memory of a process and of the processes it waited for (the diff's plans). */
const GNU_TIME = "/usr/bin/time";

/** Runs `node args` once in `cwd`: wall time, and peak memory from GNU time or else from the usage hook. */
function runOnce(args: string[], cwd = ROOT): Run {
  const report = path.join(os.tmpdir(), `opsbook-bench-${process.pid}.json`);
  const timed = fs.existsSync(GNU_TIME);
  const [command, commandArgs] = timed
    ? [GNU_TIME, ["-f", "%M", "-o", report, process.execPath, ...args]]
    : [process.execPath, [...USAGE_HOOK, ...args]];
  const start = process.hrtime.bigint();
  const run = spawnSync(command, commandArgs, {
    cwd,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    env: { ...process.env, OPSBOOK_BENCH_USAGE: report },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`node ${args.join(" ")} failed:\n${run.stderr}`);
  const text = fs.readFileSync(report, "utf8");
  fs.rmSync(report, { force: true });
  const kib = timed ? Number(text.trim().split("\n").pop()) : (JSON.parse(text) as { maxRSS: number }).maxRSS;
  return { seconds, peakMiB: kib / 1024 };
}

/** Runs a command (not node) once and returns its wall time; fails loudly if it fails. */
function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  // stderr is kept for the failure message; jest writes its report there.
  const run = spawnSync(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    encoding: "utf8",
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${run.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: number[], digits = 2): string {
  return `median ${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
}

const FLOOR = ["-e", 'require("@pulumi/pulumi"); require("@pulumi/aws")'];

/** Floor and subject alternately, `runs` pairs after one warm-up pair; prints the pair ratios. */
function pairs(
  label: string,
  subject: string[],
  runs: number,
  targets: { wall: number; memory?: number },
  cwd?: string,
) {
  runOnce(FLOOR, cwd);
  runOnce(subject, cwd);
  const wall: number[] = [];
  const memory: number[] = [];
  const seconds: number[] = [];
  const peak: number[] = [];
  for (let i = 0; i < runs; i++) {
    const floor = runOnce(FLOOR, cwd);
    const run = runOnce(subject, cwd);
    wall.push(run.seconds / floor.seconds);
    memory.push(run.peakMiB / floor.peakMiB);
    seconds.push(run.seconds);
    peak.push(run.peakMiB);
  }
  console.log(
    `${label}: ${spread(seconds)} s, ${spread(peak, 0)} MiB; ` +
      `x floor: wall ${spread(wall)} (target ${targets.wall}x), memory ${spread(memory)}` +
      (targets.memory ? ` (target ${targets.memory}x)` : "") +
      `; ${loadNow()}`,
  );
}

/**
 * A copy of the project in a temporary folder whose only stack has `count` services, made from
 * the production stack file; the program's folders are linked, not copied.
 */
function manyServicesProject(count: number): { dir: string; stack: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-bench-"));
  for (const entry of ["index.ts", "stacks", "components", "lib", "node_modules", "package.json", "Pulumi.yaml"]) {
    fs.symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  }
  const file = parse(fs.readFileSync(path.join(ROOT, "Pulumi.production.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const [template] = file.config["opsbook:services"] as Array<Record<string, unknown>>;
  file.config["opsbook:services"] = Array.from({ length: count }, (_, i) => ({
    ...template,
    // The first and last keep the stack file's names (migrations and smoke checks refer to them).
    name: i === 0 ? "api" : i === count - 1 ? "web" : `svc${i}`,
    port: 8000 + i,
    // One service takes the load balancer's default route; the others claim a path each.
    paths: i === count - 1 ? [] : [`/svc${i}/*`],
    hosts: [],
  }));
  const stack = `bench${count}`;
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(file));
  return { dir, stack };
}

/** The machine is shared: the load beside each figure says how far to trust its absolute times. */
function loadNow(): string {
  return `load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`;
}

/** Times `runs` runs (after a warm-up run unless told not to); prints their spread and returns the median. */
function repeat(label: string, runs: number, time: () => number, warmUp = true): number {
  if (warmUp) time();
  const times = Array.from({ length: runs }, time);
  console.log(`${label}: ${spread(times)} s over ${runs} runs; ${loadNow()}`);
  return median(times);
}

function main(): void {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const runs = Number(arg("--runs") ?? 5);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs takes a whole number of at least 1, got ${arg("--runs")}`);
  const load = os.loadavg()[0]!.toFixed(1);
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
      `node ${process.version}, load ${load}; ${runs} pairs (floor, subject) after a warm-up pair`,
  );
  const plan = (stack: string) => [...REGISTER, path.join(ROOT, "tools", "plan.ts"), "--stack", stack, "--json"];
  pairs("plan staging", plan("staging"), runs, { wall: 3 });
  pairs("plan production", plan("production"), runs, { wall: 1.6, memory: 1.5 });
  const many = manyServicesProject(30);
  try {
    pairs("plan 30 services", [...plan(many.stack), "--root", many.dir], runs, { wall: 3 }, many.dir);
  } finally {
    fs.rmSync(many.dir, { recursive: true, force: true });
  }
  pairs("policy production", [...REGISTER, path.join(ROOT, "tools", "policy.ts"), "--stack", "production"], runs, {
    wall: 2,
  });
  pairs(
    "diff production",
    [...REGISTER, path.join(ROOT, "tools", "diff.ts"), "--stack", "production", "--base", "HEAD"],
    runs,
    {
      wall: 2,
    },
  );
  if (process.argv.includes("--skip-checks")) return;

  // The steps of `npm test`, read from its script (`a && b && ...`) and run as written by sh, with
  // node_modules/.bin on PATH as npm does, so the figures follow the script. Warm caches: every
  // step but jest gets a warm-up run; jest keeps its transform cache from the runs before, and
  // takes a minute each.
  const test = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { test?: string } })
    .scripts.test;
  if (!test) throw new Error("package.json has no test script: nothing to time");
  const env = { ...process.env, PATH: `${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
  const checks = Math.min(runs, 3);
  const medians = test
    .split("&&")
    .map((step) => step.trim())
    .map((step) => repeat(step, checks, () => timeCommand("sh", ["-c", step], env), !/^jest\b/.test(step)));
  console.log(`npm test, the sum of those medians: ${medians.reduce((a, b) => a + b, 0).toFixed(1)} s (target 20 s)`);
}

main();
