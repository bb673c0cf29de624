/**
 * Temporary git worktrees of one commit, for running the program as it was there (the diff's base
 * plan, a rollback's update). Registered without a checkout and then filled from the commit's
 * tree: the same files as `git worktree add`, in about a third of its time, since git's own
 * checkout refreshes the whole index afterwards.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Checks `commit` of the repository at `root` out into the new, empty folder `dir`, detached; on failure nothing is left. */
export function addWorktree(root: string, dir: string, commit: string): void {
  try {
    git(root, ["worktree", "add", "--no-checkout", "--detach", "--quiet", dir, commit]);
    git(dir, ["read-tree", commit]);
    git(dir, ["checkout-index", "--all"]);
  } catch (e) {
    removeWorktree(root, dir); // and the folder itself, which the caller made for it
    throw e;
  }
}

/** Removes a worktree `addWorktree` made, files and registration; the folder goes even if git fails. */
export function removeWorktree(root: string, dir: string): void {
  try {
    git(root, ["worktree", "remove", "--force", dir]);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      git(root, ["worktree", "prune"]);
    } catch {
      // the registration goes at git's next prune
    }
  }
}
