/**
 * The layout's contract: imports run one way (index.ts -> stacks/ -> components/ -> lib/; tools/,
 * policy/ and jobs/ use lib/), and the runbook map and the code cite each other truthfully.
 */
import { execFileSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import { dirname, join, normalize } from "path";

const root = join(__dirname, "..");
const tracked = execFileSync("git", ["ls-files", "*.ts"], { cwd: root, encoding: "utf8" }).trim().split("\n");

/** The layer of a repository path: its top folder, or `index` for the entry file. */
function layerOf(file: string): string {
  return file === "index.ts" ? "index" : file.split("/")[0]!;
}

/** Which layers each layer may import from (tests are outside this: they may import anything). */
const ALLOWED: Record<string, readonly string[]> = {
  index: ["stacks"],
  stacks: ["stacks", "components", "lib"],
  components: ["components", "lib"],
  lib: ["lib"],
  policy: ["policy", "lib"],
  jobs: ["jobs", "lib"],
  // The offline tools run the program and the policy pack as the Pulumi CLI would, and read the
  // config schema for the docs; nothing imports them.
  tools: ["tools", "lib", "policy", "stacks"],
  // The CI bootstrap is a program of its own: it shares only the pure helpers (config errors, schema builders).
  bootstrap: ["bootstrap", "lib"],
  // The opsbook command reads a stack's outputs and history, never its config: no stacks/ or components/.
  ops: ["ops", "lib"],
};

const isTest = (f: string) => f.startsWith("test/") || /\/tests?\//.test(f) || f.endsWith(".test.ts");

/** Every relative import of the non-test sources, as { from, to } repository paths. */
function relativeImports(): Array<{ from: string; to: string }> {
  return tracked
    .filter((f) => !isTest(f))
    .flatMap((from) =>
      [
        ...readFileSync(join(root, from), "utf8").matchAll(
          /(?:from|require\(|import\(|import)\s*["'](\.{1,2}\/[^"']*)["']/g,
        ),
      ].map((m) => ({ from, to: normalize(join(dirname(from), m[1]!)) })),
    );
}

describe("layout", () => {
  test("imports run one way only", () => {
    const imports = relativeImports();
    expect(imports.length).toBeGreaterThan(100);
    const upward = imports
      .filter(({ from, to }) => !(ALLOWED[layerOf(from)] ?? []).includes(layerOf(to)))
      .map(({ from, to }) => `${from} imports ${to}`);
    expect(upward).toEqual([]);
  });

  test("every requirement id the code cites is in docs/runbooks.md, and the map's paths exist", () => {
    const map = readFileSync(join(root, "docs/runbooks.md"), "utf8");
    const defined = new Set([...map.matchAll(/\bR-[a-z]+(?:-[a-z0-9]+)+\b/g)].map((m) => m[0]));
    expect(defined.size).toBeGreaterThan(50);
    const cited = tracked
      .filter((f) => !isTest(f))
      .flatMap((f) =>
        [...readFileSync(join(root, f), "utf8").matchAll(/\bR-[a-z]+(?:-[a-z0-9]+)+\b/g)].map((m) => `${f}: ${m[0]}`),
      );
    expect(cited.length).toBeGreaterThan(20);
    expect(cited.filter((c) => !defined.has(c.slice(c.indexOf(": ") + 2)))).toEqual([]);
    const paths = [...map.matchAll(/`((?:[A-Za-z0-9_.-]+\/)+[A-Za-z0-9_.-]+\.(?:ts|ya?ml|json|md))/g)].map(
      (m) => m[1]!,
    );
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((p) => !existsSync(join(root, p)))).toEqual([]);
  });

  test("no code cites a runbook digest outside this repository", () => {
    const offenders = tracked.filter((f) => /RUNBOOKS\.md|\.\.\/shared\//.test(readFileSync(join(root, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
