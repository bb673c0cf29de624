/**
 * tools/lazyPulumi.js: @pulumi/pulumi's Automation API and function serialization load on first
 * use, for jest (its transformer) and for the command-line tools (tools/register.js), and are
 * still all there when asked for.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { REPO_ROOT } from "../../tools/plan/plan";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS tool file, as jest.config.js and register.js load it
const lazy = require("../../tools/lazyPulumi.js") as {
  PULUMI: string;
  REWRITES: Record<string, Array<[string, string]>>;
  isLazyTarget: (filename: string) => boolean;
  rewrite: (source: string, filename: string) => string;
};

const INDEX = path.join(lazy.PULUMI, "index.js");
const RUNTIME_INDEX = path.join(lazy.PULUMI, "runtime", "index.js");

test("rewrites exactly @pulumi/pulumi's index and runtime index", () => {
  expect(Object.keys(lazy.REWRITES).sort()).toEqual([INDEX, RUNTIME_INDEX].sort());
  expect(lazy.isLazyTarget(INDEX)).toBe(true);
  expect(lazy.isLazyTarget(path.join(lazy.PULUMI, "output.js"))).toBe(false);
});

test("the installed files contain the text it rewrites, and nothing eager of it is left", () => {
  for (const file of [INDEX, RUNTIME_INDEX]) {
    const code = lazy.rewrite(fs.readFileSync(file, "utf8"), file);
    expect(code).not.toMatch(/^const automation = /m);
    expect(code).not.toMatch(/^var (serializeClosure|codePaths)_1 = require/m);
  }
});

test("fails naming the file and the fix when @pulumi/pulumi's text changed", () => {
  expect(() => lazy.rewrite("exports.automation = require('./automation');\n", INDEX)).toThrow(
    /index\.js no longer contains the text it rewrites .*update REWRITES/,
  );
});

test("under jest the lazy exports are the real ones", () => {
  expect(typeof pulumi.automation.LocalWorkspace.create).toBe("function");
  expect(typeof pulumi.runtime.serializeFunction).toBe("function");
  expect(typeof pulumi.runtime.computeCodePaths).toBe("function");
  expect(Object.keys(pulumi)).toEqual(expect.arrayContaining(["automation", "runtime", "Config", "Output"]));
});

test("a tool loads neither the Automation API nor the TypeScript compiler until asked, then has both", () => {
  const script = [
    'const pulumi = require("@pulumi/pulumi");',
    'require("@pulumi/aws");',
    "const heavy = () => Object.keys(require.cache).filter((f) => /[\\\\/](typescript|@npmcli[\\\\/]arborist)[\\\\/]/.test(f)).length;",
    "const before = heavy();",
    "const ok = typeof pulumi.automation.LocalWorkspace === 'function' && typeof pulumi.runtime.serializeFunction === 'function';",
    "console.log(JSON.stringify({ before, after: heavy(), ok }));",
  ].join("\n");
  const run = spawnSync(process.execPath, ["-r", "./tools/register.js", "-e", script], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  const result = JSON.parse(run.stdout) as { before: number; after: number; ok: boolean };
  expect(result.before).toBe(0);
  expect(result.ok).toBe(true);
  expect(result.after).toBeGreaterThan(0);
});
