import * as path from "node:path";
import { policies } from "../../pack";
import { rdsBackupRetention, rdsMultiAz } from "../../rules/rds";
import {
  PolicyConfigError,
  parsePackConfig,
  readPackConfig,
  reconcileConfig,
  validate,
} from "../../../tools/policy/config";

const CONFIG_DIR = path.join(__dirname, "..", "..", "config");

describe("parsePackConfig", () => {
  test("reads levels given as strings and as objects with settings", () => {
    expect(
      parsePackConfig(
        '{ "all": "advisory", "rds-multi-az": "mandatory", "rds-backup-retention": { "enforcementLevel": "mandatory", "minimumRetentionDays": 30 }, "x": { "a": 1 } }',
        "c.json",
      ),
    ).toEqual({
      all: { enforcementLevel: "advisory", properties: {} },
      "rds-multi-az": { enforcementLevel: "mandatory", properties: {} },
      "rds-backup-retention": { enforcementLevel: "mandatory", properties: { minimumRetentionDays: 30 } },
      x: { properties: { a: 1 } },
    });
  });

  test("treats an empty file as no config", () => {
    expect(parsePackConfig("  \n", "c.json")).toEqual({});
  });

  test("names every bad entry", () => {
    expect(() => parsePackConfig('{ "a": "strict", "b": { "enforcementLevel": 1 }, "c": 3 }', "c.json")).toThrow(
      'c.json: 3 problems:\n  - "a": "strict" is not an enforcement level (advisory, mandatory, remediate, disabled)\n  - "b": enforcementLevel 1 is not one of advisory, mandatory, remediate, disabled\n  - "c": 3 is not valid; use an enforcement level or an object',
    );
    expect(() => parsePackConfig("{", "c.json")).toThrow(/^c\.json: not valid JSON/);
    expect(() => parsePackConfig("[]", "c.json")).toThrow(PolicyConfigError);
  });
});

describe("reconcileConfig", () => {
  const pair = [rdsMultiAz, rdsBackupRetention];

  test("starts from each policy's level and schema defaults", () => {
    expect(reconcileConfig(pair, "advisory", {}).get("rds-backup-retention")).toEqual({
      enforcementLevel: "mandatory",
      properties: { minimumRetentionDays: 7, requireBackupWindow: true },
    });
  });

  test('applies "all", then each policy\'s own entry on top', () => {
    const config = reconcileConfig(pair, "mandatory", {
      all: { enforcementLevel: "advisory", properties: {} },
      "rds-backup-retention": { properties: { minimumRetentionDays: 30 } },
      "rds-multi-az": { enforcementLevel: "disabled", properties: {} },
    });
    expect(config.get("rds-multi-az")).toEqual({ enforcementLevel: "disabled", properties: {} });
    expect(config.get("rds-backup-retention")).toEqual({
      enforcementLevel: "advisory",
      properties: { minimumRetentionDays: 30, requireBackupWindow: true },
    });
  });

  test("rejects unknown policies, unknown settings and values the schema refuses", () => {
    expect(() =>
      reconcileConfig(
        pair,
        "mandatory",
        {
          "rds-mutli-az": { enforcementLevel: "mandatory", properties: {} },
          "rds-backup-retention": { properties: { minimumRetentionDays: 40, minimumDays: 3 } },
        },
        "staging.json",
      ),
    ).toThrow(
      'staging.json: 3 problems:\n  - "rds-mutli-az" is not a policy of the pack\n  - "rds-backup-retention": minimumRetentionDays must be at most 35, got 40\n  - "rds-backup-retention": minimumDays is not a setting of this policy (settings: minimumRetentionDays, requireBackupWindow)',
    );
  });
});

describe("validate", () => {
  test("checks types, enums, bounds, list items and object properties", () => {
    expect(validate({ type: "integer" }, 1.5, "x")).toEqual(["x must be integer, got 1.5"]);
    expect(validate({ type: "number" }, 2, "x")).toEqual([]);
    expect(validate({ enum: [1, 5] }, 3, "x")).toEqual(["x must be one of 1, 5, got 3"]);
    expect(validate({ type: "array", minItems: 1, items: { type: "string" } }, [1], "x")).toEqual([
      "x[0] must be string, got 1",
    ]);
    expect(validate({ type: "array", minItems: 1 }, [], "x")).toEqual(["x must have at least 1 item"]);
    expect(
      validate(
        {
          type: "object",
          required: ["a"],
          properties: { a: { type: "string" } },
          additionalProperties: { type: "number" },
        },
        { b: "no" },
        "x",
      ),
    ).toEqual(["x.a is required", 'x.b must be number, got "no"']);
  });
});

describe("the stacks' policy config files", () => {
  const levels = (file: string) => {
    const config = reconcileConfig(policies, "mandatory", readPackConfig(path.join(CONFIG_DIR, file)), file);
    return (name: string) => config.get(name);
  };

  test("staging relaxes what a cheaper staging may skip, and keeps its smaller retention", () => {
    const staging = levels("staging.json");
    expect(
      [
        "rds-multi-az",
        "rds-deletion-protection",
        "elasticache-failover",
        "alb-deletion-protection",
        "stateful-resource-keeps-data-on-delete",
      ].map((n) => staging(n)?.enforcementLevel),
    ).toEqual(["advisory", "advisory", "advisory", "advisory", "advisory"]);
    expect(staging("stateful-resource-protected")?.enforcementLevel).toBe("disabled");
    expect(staging("rds-backup-retention")).toEqual({
      enforcementLevel: "mandatory",
      properties: { minimumRetentionDays: 7, requireBackupWindow: true },
    });
  });

  test("production makes them mandatory and asks for the runbook's 30 days of backups and a year of logs", () => {
    const production = levels("production.json");
    expect(
      [
        "rds-multi-az",
        "rds-deletion-protection",
        "elasticache-failover",
        "alb-deletion-protection",
        "alb-waf-attached",
        "stateful-resource-protected",
        "stateful-resource-keeps-data-on-delete",
      ].map((n) => production(n)?.enforcementLevel),
    ).toEqual(Array(7).fill("mandatory"));
    expect(production("rds-backup-retention")?.properties.minimumRetentionDays).toBe(30);
    expect(production("cloudwatch-log-group-retention")?.properties.minimumRetentionDays).toBe(365);
  });
});
