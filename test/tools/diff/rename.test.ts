/**
 * A resource renamed with Pulumi `aliases` is matched to its old URN and shown as a rename, not as
 * a delete and a create: Pulumi moves its state, AWS sees nothing.
 */
import { toPlan } from "../../../tools/diff/planFile";
import { renderJson, renderText } from "../../../tools/diff/render";
import { diff, resource, urnOf } from "./builders";

const BUCKET = "aws:s3/bucket:Bucket";
const logs = { bucketPrefix: "opsbook-production-backup-logs-", forceDestroy: false };

/** The bucket as `name`, once known as the URNs `aliases` name. */
function bucket(name: string, inputs: Record<string, unknown>, aliases: string[] = []) {
  return { ...resource(BUCKET, name, inputs, { protect: true }), aliases };
}

describe("renames", () => {
  test("a renamed bucket with an alias of its old URN is one rename, and nothing risky", () => {
    const report = diff(
      [bucket("production-access-logs", logs)],
      [bucket("production-backup-access-logs", logs, [urnOf(BUCKET, "production-access-logs")])],
    );
    expect(report.changes.map((c) => [c.op, c.name, c.renamedFrom, c.changedKeys])).toEqual([
      ["update", "production-backup-access-logs", urnOf(BUCKET, "production-access-logs"), []],
    ]);
    expect(report.risks).toEqual([]);
    expect(renderText(report)).toContain(
      "~  rename   aws:s3/bucket:Bucket  production-backup-access-logs  (renamed from production-access-logs)",
    );
    expect(JSON.parse(renderJson(report))).toMatchObject({
      summary: { create: 0, update: 1, replace: 0, delete: 0 },
      changes: [{ op: "update", renamedFrom: urnOf(BUCKET, "production-access-logs") }],
    });
  });

  test("a rename that also changes a replacing input is still a replacement", () => {
    const report = diff(
      [bucket("old", logs)],
      [bucket("new", { ...logs, bucketPrefix: "other-" }, [urnOf(BUCKET, "old")])],
    );
    expect(report.changes.map((c) => [c.op, c.renamedFrom, c.replaceReasons])).toEqual([
      ["replace", urnOf(BUCKET, "old"), ["bucketPrefix"]],
    ]);
    expect(report.risks.map((r) => r.kind)).toContain("stateful-replaced");
  });

  test("without the alias the same rename deletes the bucket and creates an empty one", () => {
    const report = diff([bucket("production-access-logs", logs)], [bucket("production-backup-access-logs", logs)]);
    expect(report.changes.map((c) => [c.op, c.name])).toEqual([
      ["delete", "production-access-logs"],
      ["create", "production-backup-access-logs"],
    ]);
    expect(report.risks.map((r) => r.kind)).toContain("stateful-deleted");
  });

  test("an alias claims its old URN once, and not while the old URN still exists", () => {
    const old = urnOf(BUCKET, "a");
    const report = diff(
      [bucket("a", logs), bucket("b", logs)],
      [bucket("a", logs), bucket("c", logs, [old, urnOf(BUCKET, "b")]), bucket("d", logs, [urnOf(BUCKET, "b")])],
    );
    expect(report.changes.map((c) => [c.op, c.name, c.renamedFrom])).toEqual([
      ["update", "c", urnOf(BUCKET, "b")],
      ["create", "d", undefined],
    ]);
  });

  test("a plan file's aliases are read, and a plan without them has none", () => {
    const file = (aliases?: unknown) => ({
      stack: "production",
      project: "opsbook",
      resources: [{ urn: urnOf(BUCKET, "x"), type: BUCKET, name: "x", inputs: {}, ...(aliases ? { aliases } : {}) }],
    });
    expect(toPlan(file(["urn:old", 3]), "f").resources[0]!.aliases).toEqual(["urn:old"]);
    expect(toPlan(file(), "f").resources[0]!.aliases).toEqual([]);
  });
});
