import * as fs from "node:fs";
import * as path from "node:path";
import { parsePreview, parseUrn } from "../../../tools/diff/preview";
import { renderJson, renderMarkdown, renderText } from "../../../tools/diff/render";
import { buildReport, exitCodeOf } from "../../../tools/diff/report";

const FIXTURE = path.join(__dirname, "..", "..", "fixtures", "diff", "preview-production.json");
const sample = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as unknown;
const SERVICE = "urn:pulumi:production::opsbook::opsbook:service:Service$";
const MONITORING = "urn:pulumi:production::opsbook::opsbook:monitoring:Monitoring$";

function sampleReport() {
  const parsed = parsePreview(sample, "preview-production.json");
  return buildReport({
    stack: parsed.stack,
    project: parsed.project,
    source: "preview",
    changes: parsed.changes,
    unchanged: parsed.unchanged,
  });
}

describe("parsePreview", () => {
  test("reads the stack, one change per URN, the provider's replace reasons, and skips the stack resource", () => {
    const parsed = parsePreview(sample, "preview-production.json");
    expect([parsed.stack, parsed.project, parsed.unchanged]).toEqual(["production", "opsbook", 2]);
    expect(parsed.changes.map((c) => [c.op, c.urn, c.type, c.changedKeys, c.replaceReasons])).toEqual([
      [
        "delete",
        `${MONITORING}aws:cloudwatch/metricAlarm:MetricAlarm::production-api-5xx-critical`,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        [],
        [],
      ],
      [
        "create",
        `${MONITORING}aws:cloudwatch/metricAlarm:MetricAlarm::production-api-p95-warning`,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        [],
        [],
      ],
      [
        "replace",
        `${SERVICE}aws:cloudwatch/logGroup:LogGroup::production-api-logs`,
        "aws:cloudwatch/logGroup:LogGroup",
        ["namePrefix"],
        ["namePrefix"],
      ],
      [
        "update",
        `${SERVICE}aws:ecs/service:Service::production-api`,
        "aws:ecs/service:Service",
        ["desiredCount", "taskDefinition"],
        [],
      ],
      [
        "replace",
        `${SERVICE}aws:ecs/taskDefinition:TaskDefinition::production-api`,
        "aws:ecs/taskDefinition:TaskDefinition",
        ["containerDefinitions"],
        ["containerDefinitions"],
      ],
    ]);
  });

  test("keeps both states of an update and only the old state of a delete", () => {
    const [deleted, created, , updated] = parsePreview(sample, "sample").changes;
    expect([deleted?.before?.inputs.alarmName, deleted?.after]).toEqual(["production-api-5xx-critical", undefined]);
    expect([created?.before, created?.after?.inputs.threshold]).toEqual([undefined, 0.5]);
    expect([updated?.before?.inputs.desiredCount, updated?.after?.inputs.desiredCount]).toEqual([3, 2]);
  });

  test("classifies the real preview: the replaced log group, the removed alarm, the lower task count", () => {
    const report = sampleReport();
    expect(report.risks.map((r) => [r.kind, r.name, r.detail])).toEqual([
      [
        "stateful-replaced",
        "production-api-logs",
        'log group replaced (namePrefix "/opsbook/production/api-" → "/opsbook/production/services/api-"): the new one starts empty',
      ],
      ["alarm-removed", "production-api-5xx-critical", 'alarm "production-api-5xx-critical" deleted'],
      ["capacity-lowered", "production-api", "desiredCount 3 → 2"],
    ]);
    expect(exitCodeOf(report)).toBe(2);
  });

  test("a 'same' step that drops protect (shown with --show-sames) is a change, and a risky one", () => {
    const urn = "urn:pulumi:production::opsbook::opsbook:data:Postgres$aws:rds/instance:Instance::production-postgres";
    const state = (protect: boolean) => ({
      urn,
      custom: true,
      type: "aws:rds/instance:Instance",
      inputs: { identifier: "production-postgres" },
      protect,
    });
    const parsed = parsePreview(
      { steps: [{ op: "same", urn, oldState: state(true), newState: state(false) }] },
      "sames",
    );
    expect(parsed.changes.map((c) => [c.op, c.changedKeys])).toEqual([["update", ["protect"]]]);
    const report = buildReport({
      stack: parsed.stack,
      project: parsed.project,
      source: "preview",
      changes: parsed.changes,
      unchanged: parsed.unchanged,
    });
    expect(report.risks.map((r) => [r.kind, r.detail])).toEqual([
      ["protect-dropped", "protect true → false: Pulumi may now delete it"],
    ]);
  });

  test("rejects a document that is not a preview, naming the fix", () => {
    expect(() => parsePreview({ resources: [] }, '"plan.json"')).toThrow(
      '"plan.json" is not the output of `pulumi preview --json`: it has no "steps" list. Produce it with: pulumi preview --stack <name> --json > preview.json',
    );
    expect(() => parsePreview({ steps: [{ op: "update" }] }, "x")).toThrow(
      'x: steps[0] has no "op" and "urn" strings; got {"op":"update"}',
    );
  });

  test("parseUrn takes the name after the last separator, also for a child of a component", () => {
    expect(parseUrn(`${SERVICE}aws:ecs/service:Service::production-api`)).toEqual({
      stack: "production",
      project: "opsbook",
      name: "production-api",
    });
    expect(() => parseUrn("arn:aws:s3:::bucket")).toThrow('"arn:aws:s3:::bucket" is not a Pulumi URN');
  });
});

describe("rendering", () => {
  test("Markdown: a heading for the stack, the risks in a table first, every change folded", () => {
    expect(renderMarkdown(sampleReport())).toBe(
      [
        "### `production`: :warning: 3 risky of 5 changes",
        "",
        "_1 to create, 1 to update, 2 to replace, 1 to delete; 2 unchanged; from `pulumi preview`: replacements as the provider reports them._",
        "",
        "| risk | resource | detail |",
        "|---|---|---|",
        '| `stateful-replaced` | `aws:cloudwatch/logGroup:LogGroup` **production-api-logs** | log group replaced (namePrefix "/opsbook/production/api-" → "/opsbook/production/services/api-"): the new one starts empty |',
        '| `alarm-removed` | `aws:cloudwatch/metricAlarm:MetricAlarm` **production-api-5xx-critical** | alarm "production-api-5xx-critical" deleted |',
        "| `capacity-lowered` | `aws:ecs/service:Service` **production-api** | desiredCount 3 → 2 |",
        "",
        "<details><summary>All 5 changes</summary>",
        "",
        "| op | resource | inputs |",
        "|---|---|---|",
        "| `-` delete | `aws:cloudwatch/metricAlarm:MetricAlarm` **production-api-5xx-critical** |  |",
        "| `+` create | `aws:cloudwatch/metricAlarm:MetricAlarm` **production-api-p95-warning** |  |",
        "| `+-` replace | `aws:cloudwatch/logGroup:LogGroup` **production-api-logs** | namePrefix |",
        "| `~` update | `aws:ecs/service:Service` **production-api** | desiredCount, taskDefinition |",
        "| `+-` replace | `aws:ecs/taskDefinition:TaskDefinition` **production-api** | containerDefinitions |",
        "",
        "</details>",
      ].join("\n"),
    );
  });

  test("Markdown escapes what could break the table or the HTML around it", () => {
    const report = sampleReport();
    report.risks[0]!.detail = "a | b <script> `x`\nnext";
    expect(renderMarkdown(report).split("\n")[6]).toBe(
      "| `stateful-replaced` | `aws:cloudwatch/logGroup:LogGroup` **production-api-logs** | a \\| b &lt;script&gt; 'x' next |",
    );
  });

  test("text: the counts, the risks with their details, then the changes", () => {
    const lines = renderText(sampleReport()).split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "opsbook / production: 5 changes, 3 risky (from pulumi preview: replacements as the provider reports them)",
      "  1 to create, 1 to update, 2 to replace, 1 to delete; 2 unchanged",
      "",
      "Risky:",
      "  stateful-replaced           aws:cloudwatch/logGroup:LogGroup  production-api-logs",
    ]);
    expect(lines.at(-2)).toBe("  ~  update   aws:ecs/service:Service  production-api  (desiredCount, taskDefinition)");
  });

  test("JSON: the summary, the risks and the changes without resource states", () => {
    const json = JSON.parse(renderJson(sampleReport())) as {
      summary: unknown;
      risks: unknown[];
      changes: Array<Record<string, unknown>>;
    };
    expect(json.summary).toEqual({ create: 1, update: 1, replace: 2, delete: 1, unchanged: 2, risky: 3 });
    expect(json.risks).toHaveLength(3);
    expect(Object.keys(json.changes[0]!)).toEqual(["op", "urn", "type", "name", "changedKeys", "replaceReasons"]);
  });
});
