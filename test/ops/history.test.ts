import { readFileSync } from "fs";
import { join } from "path";
import {
  deployedTags,
  deployments,
  historyMarkdown,
  printableConfig,
  rollbackMessage,
  rolledBackFrom,
  selectRollback,
  type Update,
} from "../../ops/history";

/** The recorded `pulumi stack history --json --show-secrets` output, as Stack.history() parses it. */
export const recorded = (): Update[] =>
  JSON.parse(readFileSync(join(__dirname, "../fixtures/ops/history-production.json"), "utf8"), (k, v: unknown) =>
    k === "startTime" || k === "endTime" ? new Date(v as string) : v,
  ) as Update[];

const upd = (version: number, result: string, message = "", head = `c${version}`): Update => ({
  version,
  kind: "update",
  startTime: new Date(Date.UTC(2026, 10, version)),
  endTime: new Date(Date.UTC(2026, 10, version, 0, 5)),
  message,
  environment: { "git.head": head, "git.dirty": "false" },
  config: {},
  result: result as Update["result"],
});

describe("rollback selection (R-rollback-manual)", () => {
  test.each<[string, Update[], number | undefined, { from: number; to: number } | RegExp]>([
    ["the previous good update", [upd(1, "succeeded"), upd(2, "succeeded")], undefined, { from: 2, to: 1 }],
    [
      "skips failed updates",
      [upd(1, "succeeded"), upd(2, "failed"), upd(3, "succeeded")],
      undefined,
      { from: 3, to: 1 },
    ],
    [
      "from a failed current update",
      [upd(1, "succeeded"), upd(2, "succeeded"), upd(3, "failed")],
      undefined,
      { from: 3, to: 2 },
    ],
    [
      "skips a version an earlier rollback marked bad",
      [
        upd(1, "succeeded"),
        upd(2, "succeeded"),
        upd(3, "succeeded", rollbackMessage(2, 1, "errors")),
        upd(4, "succeeded"),
      ],
      undefined,
      { from: 4, to: 3 },
    ],
    [
      "never returns to a version marked bad, even when the rollback that marked it failed",
      [upd(1, "succeeded"), upd(2, "succeeded"), upd(3, "failed", rollbackMessage(2, 1, undefined))],
      undefined,
      { from: 3, to: 1 },
    ],
    [
      "a rollback message written by hand counts too",
      [
        upd(1, "succeeded"),
        upd(2, "succeeded"),
        upd(3, "succeeded", "Opsbook rollback: from version 2"),
        upd(4, "failed"),
      ],
      undefined,
      { from: 4, to: 3 },
    ],
    [
      "skips an update with no recorded commit",
      [upd(1, "succeeded"), upd(2, "succeeded", "", ""), upd(3, "succeeded")],
      undefined,
      { from: 3, to: 1 },
    ],
    [
      "--to picks an older good version",
      [upd(1, "succeeded"), upd(2, "succeeded"), upd(3, "succeeded")],
      1,
      { from: 3, to: 1 },
    ],
    [
      "--to refuses a failed version",
      [upd(1, "succeeded"), upd(2, "failed"), upd(3, "succeeded")],
      2,
      /v2 did not succeed \(failed\)/,
    ],
    [
      "--to refuses a version rolled back before",
      [
        upd(1, "succeeded"),
        upd(2, "succeeded"),
        upd(3, "succeeded", rollbackMessage(2, 1, undefined)),
        upd(4, "succeeded"),
      ],
      2,
      /v2 was rolled back by a later rollback/,
    ],
    ["--to refuses the current version", [upd(1, "succeeded"), upd(2, "succeeded")], 2, /not before the current v2/],
    ["--to refuses an unknown version", [upd(1, "succeeded"), upd(2, "succeeded")], 9, /no update v9/],
    ["refuses while an update runs", [upd(1, "succeeded"), upd(2, "in-progress")], undefined, /v2 is still running/],
    [
      "refuses with nothing good to go to",
      [upd(1, "failed"), upd(2, "succeeded")],
      undefined,
      /no update before v2 succeeded/,
    ],
    ["refuses an empty history", [], undefined, /no updates/],
  ])("%s", (_, history, to, expected) => {
    const chosen = selectRollback(history, to);
    if (expected instanceof RegExp) {
      expect(chosen.ok).toBe(false);
      if (!chosen.ok) expect(chosen.why).toMatch(expected);
    } else {
      expect(chosen.ok).toBe(true);
      if (chosen.ok) expect({ from: chosen.from.version, to: chosen.to.version }).toEqual(expected);
    }
  });

  test("over the recorded production history: refreshes are not updates, v4 was rolled back, so v6 goes to v5", () => {
    const chosen = selectRollback(recorded());
    expect(chosen.ok && [chosen.from.version, chosen.to.version]).toEqual([6, 5]);
    const past = selectRollback(recorded().filter((u) => u.version !== 5 && u.version !== 6));
    expect(past.ok && [past.from.version, past.to.version]).toEqual([4, 2]);
  });

  test("a rollback's message names the version it reverts, and reads back", () => {
    expect(rollbackMessage(6, 5, "5xx at 12 %")).toBe("opsbook rollback from v6 to v5: 5xx at 12 %");
    expect(rolledBackFrom({ message: rollbackMessage(6, 5, undefined) })).toBe(6);
    expect(rolledBackFrom({ message: "opsbook deploy tags api=1.0.0 at abc" })).toBeUndefined();
    expect(deployedTags({ message: "opsbook deploy tags api=1.3.0,web=1.3.1 at abc" })).toEqual({
      api: "1.3.0",
      web: "1.3.1",
    });
  });

  test("printed config never shows a secret", () => {
    const v5 = recorded().find((u) => u.version === 5)!;
    expect(printableConfig(v5)).toMatchObject({ "opsbook:pagerToken": "[secret]", "aws:region": "eu-west-1" });
    expect(JSON.stringify(printableConfig(v5))).not.toContain("s3cr3t");
  });
});

describe("deployment history (R-deploy-history)", () => {
  test("rows carry version, start, duration, who, tags, commit, result and rollback marks", () => {
    const rows = deployments(recorded());
    expect(rows.map((r) => r.version)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(rows[0]).toEqual({
      version: 6,
      start: "2026-11-11T10:05:00.000Z",
      durationSeconds: 451,
      who: "GitHub 912",
      tags: { api: "1.3.0", web: "1.3.0" },
      commit: "COMMIT_E",
      result: "succeeded",
      kind: "deploy",
      rolledBack: false,
      message: "opsbook deploy tags api=1.3.0,web=1.3.0 at COMMIT_E",
    });
    expect(rows.find((r) => r.version === 5)).toMatchObject({ kind: "rollback", rolledBackFrom: 4, who: "Sam Oncall" });
    expect(rows.find((r) => r.version === 4)).toMatchObject({ rolledBack: true });
    expect(rows.find((r) => r.version === 1)).toMatchObject({ kind: "update", who: "Dana Ops", durationSeconds: 1500 });
  });

  test("renders as a Markdown table", () => {
    const md = historyMarkdown("production", deployments(recorded()));
    expect(md).toContain("| version | start (UTC) | duration | who | tags | commit | result | rolled back |");
    expect(md).toContain("| v5 (rollback of v4) | 2026-11-04 11:20:00 | 370 s | Sam Oncall | api=1.1.0, web=1.1.0 |");
    expect(md).toContain("| v4 | 2026-11-04 10:30:00 | 480 s | Dana Ops | api=1.2.1 | `COMMIT_D` | succeeded | yes |");
  });
});
