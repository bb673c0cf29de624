/**
 * `npm run bench [-- --runs N]`: how long the offline plan of each stack takes against the floor
 * (a bare node that only loads @pulumi/pulumi and @pulumi/aws), median of N runs, and the wall time
 * of the unit tests and the type-check. A benchmark, not a test: it prints, it does not judge.
 */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { listStacks } from "./plan/stackFile";

const ROOT = path.resolve(__dirname, "..");
const REGISTER = ["-r", path.join(ROOT, "tools", "register.js")];

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`${args.join(" ")} failed:\n${run.stderr}`);
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function measure(args: string[], runs: number): number {
  timeOnce(args); // warm the file cache
  return median(Array.from({ length: runs }, () => timeOnce(args)));
}

function main(): void {
  const runsArg = process.argv.indexOf("--runs");
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs takes a whole number of at least 1");

  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}; median of ${runs} runs`,
  );
  const floor = measure(["-e", 'require("@pulumi/pulumi"); require("@pulumi/aws")'], runs);
  console.log(`floor (load @pulumi/pulumi + @pulumi/aws): ${floor.toFixed(2)} s`);
  for (const stack of listStacks(ROOT)) {
    const plan = measure([...REGISTER, "tools/plan.ts", "--stack", stack, "--json"], runs);
    console.log(`plan ${stack}: ${plan.toFixed(2)} s = ${(plan / floor).toFixed(2)}x floor (target: within 3x)`);
  }
  const jest = timeOnce([path.join(ROOT, "node_modules", "jest", "bin", "jest.js"), "--silent"]);
  console.log(`unit tests (jest): ${jest.toFixed(2)} s`);
  const tsc = timeOnce([path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "."]);
  console.log(`type-check (tsc --noEmit): ${tsc.toFixed(2)} s`);
}

main();
