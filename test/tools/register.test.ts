/**
 * tools/register.js keeps esbuild's output per file under `.cache/transpile/`, keyed by the file's
 * path inside its checkout and its content, so a second checkout of the same file (the diff's base
 * worktree, which links that folder) reuses it; the source map still points into the checkout
 * that runs the file.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-register-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const shared = path.join(work, "shared-transpile");
const SOURCE = [
  "interface Answer { value: number }",
  "const answer: Answer = { value: 42 };",
  'if (process.env.THROW) throw new Error("thrown on purpose");',
  "console.log(answer.value);",
  "",
].join("\n");

/** A checkout with the hook's three files, the repository's node_modules and the shared cache. */
function checkout(name: string): string {
  const root = path.join(work, name);
  fs.mkdirSync(path.join(root, "tools"), { recursive: true });
  fs.mkdirSync(path.join(root, "lib"), { recursive: true });
  fs.mkdirSync(path.join(root, ".cache"), { recursive: true });
  for (const file of ["register.js", "transpile.js", "lazyPulumi.js"]) {
    fs.copyFileSync(path.join(REPO_ROOT, "tools", file), path.join(root, "tools", file));
  }
  fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"), "dir");
  fs.mkdirSync(shared, { recursive: true });
  fs.symlinkSync(shared, path.join(root, ".cache", "transpile"), "dir");
  fs.writeFileSync(path.join(root, "lib", "answer.ts"), SOURCE);
  return root;
}

function runIn(root: string, env: Record<string, string> = {}) {
  return spawnSync(
    process.execPath,
    ["--enable-source-maps", "-r", path.join(root, "tools", "register.js"), path.join(root, "lib", "answer.ts")],
    { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 },
  );
}

test("two checkouts of one file share one transpiled copy, and errors point into the checkout that ran it", () => {
  const first = checkout("first");
  const second = checkout("second");

  const a = runIn(first);
  expect([a.status, a.stdout, a.stderr]).toEqual([0, "42\n", ""]);
  expect(fs.readdirSync(shared)).toHaveLength(1);

  const b = runIn(second);
  expect([b.status, b.stdout, b.stderr]).toEqual([0, "42\n", ""]);
  expect(fs.readdirSync(shared)).toHaveLength(1); // reused, not transpiled again

  // The cached copy was made in the first checkout; the second's stack trace names its own file.
  const thrown = runIn(second, { THROW: "1" });
  expect(thrown.status).toBe(1);
  expect(thrown.stderr).toContain(`${path.join(second, "lib", "answer.ts")}:3`);
  expect(thrown.stderr).not.toContain(first);

  // Another content at the same path is transpiled afresh.
  fs.writeFileSync(path.join(second, "lib", "answer.ts"), SOURCE.replace("42", "43"));
  const changed = runIn(second);
  expect([changed.status, changed.stdout]).toEqual([0, "43\n"]);
  expect(fs.readdirSync(shared)).toHaveLength(2);
});
