/**
 * Offline plans of a stack at two points: the working tree, and a git ref checked out into a
 * temporary worktree (removed afterwards, also on failure). Each plan runs in its own node
 * process, because the Pulumi runtime holds one program per process; the two run side by side.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { addWorktree, removeWorktree } from "../../lib/worktree";
import type { PlanLike } from "./compare";
import { parseJson, toPlan } from "./planFile";

/**
 * Runs `tools/plan.ts --json` of the checkout at `root` for `stack`. `label` names the checkout in
 * errors; `signal` stops the plan (its process is killed) when the caller no longer needs it.
 */
export function runPlan(root: string, stack: string, label: string, signal?: AbortSignal): Promise<PlanLike> {
  const args = [
    "-r",
    path.join(root, "tools", "register.js"),
    path.join(root, "tools", "plan.ts"),
    "--stack",
    stack,
    "--json",
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      ...(signal ? { signal } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        reject(
          new Error(
            `the offline plan of stack "${stack}" at ${label} failed (exit ${code}):\n${Buffer.concat(err).toString("utf8").trim()}`,
          ),
        );
        return;
      }
      try {
        const source = `the plan of stack "${stack}" at ${label}`;
        resolve(toPlan(parseJson(Buffer.concat(out).toString("utf8"), source), source));
      } catch (e) {
        // parseJson and toPlan throw Errors; anything else is wrapped so callers always get one.
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit `ref` names in the repository at `root`; throws with the fix when it names none. */
export function resolveCommit(root: string, ref: string): string {
  try {
    return git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new Error(
      `--base "${ref}" names no commit in ${root}. Pass a branch, tag or commit that exists here, or fetch it first (git fetch origin <branch>)`,
    );
  }
}

/**
 * The offline plan of `stack` as it was at `ref`. The checkout borrows the working tree's
 * node_modules, so the base runs with today's dependencies. A stack that did not exist at `ref`
 * has an empty plan: everything in it is new.
 */
export async function planAtRef(root: string, ref: string, stack: string, signal?: AbortSignal): Promise<PlanLike> {
  const sha = resolveCommit(root, ref);
  const label = `${ref} (${sha.slice(0, 12)})`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-diff-base-"));
  addWorktree(root, dir, sha);
  try {
    if (!fs.existsSync(path.join(dir, "tools", "plan.ts"))) {
      throw new Error(
        `--base ${label} predates the offline plan (it has no tools/plan.ts), so there is no plan to compare with. Pass a newer --base, or compare plan files with --base-plan and --head-plan`,
      );
    }
    if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return { stack, project: "", resources: [] };
    fs.symlinkSync(fs.realpathSync(path.join(root, "node_modules")), path.join(dir, "node_modules"), "dir");
    // And the caches of tools/register.js: V8's compiled code of those dependencies (node keys it by
    // each file's path and content) and esbuild's output (keyed by the path inside the checkout and
    // the content), so the base reuses what the working tree's runs made for the files the change
    // left alone instead of starting cold.
    fs.mkdirSync(path.join(dir, ".cache"), { recursive: true });
    for (const cache of ["node-compile", "transpile"]) {
      const shared = path.join(root, ".cache", cache);
      fs.mkdirSync(shared, { recursive: true });
      fs.symlinkSync(fs.realpathSync(shared), path.join(dir, ".cache", cache), "dir");
    }
    return await runPlan(dir, stack, label, signal);
  } finally {
    removeWorktree(root, dir);
  }
}
