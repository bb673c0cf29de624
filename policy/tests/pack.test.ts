import * as fs from "node:fs";
import * as path from "node:path";
import type { StackValidationPolicy } from "@pulumi/policy";
import { THRESHOLDS } from "../../lib/thresholds";
import { readPackConfig, reconcileConfig, validate } from "../../tools/policy/config";
import { PACK_NAME, policies } from "../pack";
import { DEFAULT_FAMILIES } from "../rules/alarms";

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const isStack = (p: object) => typeof (p as StackValidationPolicy).validateStack === "function";

describe("the pack", () => {
  test("has 86 rules with unique kebab-case names", () => {
    const names = policies.map((p) => p.name);
    expect(names).toHaveLength(86);
    expect(new Set(names).size).toBe(names.length);
    expect(names.filter((n) => !/^[a-z0-9]+(-[a-z0-9]+)*$/.test(n))).toEqual([]);
    expect(PACK_NAME).toBe("opsbook");
  });

  test("every rule has a description, a level, a severity, remediation steps and sources", () => {
    const incomplete = policies.filter(
      (p) =>
        !p.description.endsWith(".") ||
        !p.enforcementLevel ||
        !p.severity ||
        !p.remediationSteps ||
        p.sources.length === 0,
    );
    expect(incomplete.map((p) => p.name)).toEqual([]);
  });

  test("rules that read values unknown at preview time say so in their description", () => {
    expect(
      policies.filter((p) => p.preview && !p.description.includes(`During preview: ${p.preview}`)).map((p) => p.name),
    ).toEqual([]);
  });

  test("every config setting has a default its own schema accepts, and none is called enforcementLevel", () => {
    const problems = policies.flatMap((p) =>
      Object.entries(p.configSchema?.properties ?? {}).flatMap(([key, schema]) =>
        key === "enforcementLevel"
          ? [`${p.name}: enforcementLevel`]
          : validate(schema, schema.default, `${p.name}.${key}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  test("only index.ts constructs the PolicyPack, whose constructor starts a server", () => {
    const files = (dir: string): string[] =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((e) =>
          e.isDirectory()
            ? e.name === "node_modules"
              ? []
              : files(path.join(dir, e.name))
            : e.name.endsWith(".ts")
              ? [path.join(dir, e.name)]
              : [],
        );
    const constructing = files(path.join(REPO_ROOT, "policy")).filter(
      (f) => !f.includes(`${path.sep}tests${path.sep}`) && fs.readFileSync(f, "utf8").includes("new PolicyPack("),
    );
    expect(constructing.map((f) => path.relative(REPO_ROOT, f))).toEqual(["policy/index.ts"]);
  });

  test("the alarm families cover every runbook threshold, and name only runbook thresholds", () => {
    // Slow queries (a log metric filter) and certificate expiry (ACM) carry no dimension naming a
    // database, cache or service, so the coverage rule has no resource to hold them against.
    const unattached = ["certificateDaysToExpiry", "slowQueriesPerMinute"];
    expect([...new Set(DEFAULT_FAMILIES.map((f) => f.threshold))].sort()).toEqual(
      Object.keys(THRESHOLDS)
        .filter((t) => !unattached.includes(t))
        .sort(),
    );
  });
});

describe("the README's rule table", () => {
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("| rule | staging | production | checks | sources |"));
  const rows = table
    .split("\n")
    .slice(2)
    .filter((line, i, all) => line.startsWith("|") && all.slice(0, i).every((l) => l.startsWith("|")))
    .map((line) => line.split("|").map((cell) => cell.trim()));
  const level = (cell: string | undefined) => (cell === "" ? "mandatory" : cell);

  test("lists every rule once, marking the stack rules", () => {
    expect(rows.map((r) => r[1])).toEqual(policies.map((p) => `\`${p.name}\`${isStack(p) ? " (stack)" : ""}`));
  });

  test("shows the levels the stack configs give", () => {
    const config = (stack: string) =>
      reconcileConfig(policies, "mandatory", readPackConfig(path.join(REPO_ROOT, "policy", "config", `${stack}.json`)));
    const staging = config("staging");
    const production = config("production");
    expect(rows.map((r) => [r[1], level(r[2]), level(r[3])])).toEqual(
      policies.map((p) => [
        `\`${p.name}\`${isStack(p) ? " (stack)" : ""}`,
        staging.get(p.name)!.enforcementLevel,
        production.get(p.name)!.enforcementLevel,
      ]),
    );
  });
});
