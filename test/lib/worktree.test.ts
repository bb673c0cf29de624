import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { addWorktree, removeWorktree } from "../../lib/worktree";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-worktree-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const repo = path.join(work, "repo");
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
const registered = () => git(repo, "worktree", "list", "--porcelain");

let first: string;
beforeAll(() => {
  fs.mkdirSync(path.join(repo, "lib"), { recursive: true });
  git(repo, "init", "--quiet");
  fs.writeFileSync(path.join(repo, "index.ts"), "export const version = 1;\n");
  fs.writeFileSync(path.join(repo, "lib", "a.ts"), "export const a = 1;\n");
  fs.writeFileSync(path.join(repo, "run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
  git(repo, "add", ".");
  git(repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "first");
  first = git(repo, "rev-parse", "HEAD");
  fs.writeFileSync(path.join(repo, "index.ts"), "export const version = 2;\n");
  fs.rmSync(path.join(repo, "lib", "a.ts"));
  git(repo, "add", "-A");
  git(repo, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "second");
});

test("the commit's files, clean and detached, and nothing left after removal", () => {
  const dir = path.join(work, "at-first");
  addWorktree(repo, dir, first);
  expect(fs.readFileSync(path.join(dir, "index.ts"), "utf8")).toBe("export const version = 1;\n");
  expect(fs.readFileSync(path.join(dir, "lib", "a.ts"), "utf8")).toBe("export const a = 1;\n");
  expect(fs.statSync(path.join(dir, "run.sh")).mode & 0o111).not.toBe(0); // modes as committed
  expect(git(dir, "status", "--porcelain")).toBe("");
  expect(git(dir, "rev-parse", "HEAD")).toBe(first);
  expect(() => git(dir, "symbolic-ref", "-q", "HEAD")).toThrow(); // detached: HEAD names no branch
  expect(registered()).toContain(dir);

  removeWorktree(repo, dir);
  expect(fs.existsSync(dir)).toBe(false);
  expect(registered()).not.toContain(dir);
});

test("a commit the repository does not have fails, registers nothing and leaves no folder", () => {
  const dir = fs.mkdtempSync(path.join(work, "missing-")); // as the callers make it
  const before = registered();
  expect(() => addWorktree(repo, dir, "0123456789abcdef0123456789abcdef01234567")).toThrow(/git worktree add/);
  expect(registered()).toBe(before);
  expect(fs.existsSync(dir)).toBe(false);
});

test("removal of a worktree whose registration is gone still deletes the folder", () => {
  const dir = path.join(work, "orphan");
  addWorktree(repo, dir, first);
  fs.rmSync(path.join(dir, ".git")); // git no longer knows it as a worktree of this folder
  removeWorktree(repo, dir);
  expect(fs.existsSync(dir)).toBe(false);
  expect(registered()).not.toContain(dir);
});
