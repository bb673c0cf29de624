/**
 * The backup alert rules run by the real Prometheus rule engine (promtool), over the gauges the
 * job pushes: the critical alert fires once the newest backup is older than the window (and when
 * none was ever pushed), not a minute before; the drill alert holds while the last drill failed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { stringify } from "yaml";
import { backupAlertGroup } from "../../../components/kubernetes/backupAlertRules";
import { promtool } from "../../helpers/promtool";

const RUNBOOK = "https://git.example.com/opsbook/docs/runbooks.md";
const group = backupAlertGroup({
  environment: "local",
  database: "app",
  rpoHours: 24,
  alarmAfterHours: 28,
  runbookUrl: RUNBOOK,
});
const [lastGood, drill] = group.rules;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-backup-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups: [group] }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const expected = (rule: typeof lastGood) => [
  { exp_labels: { alertname: rule!.alert, ...rule!.labels }, exp_annotations: rule!.annotations },
];

describe("backup alert rules", () => {
  test("the catalogue's two backup alarms, labelled, described and linked to the Backups section", () => {
    expect(group.rules.map((r) => `${r.alert} ${r.labels.family} ${r.labels.severity}`)).toEqual([
      "LastGoodBackup last-good-backup critical",
      "RestoreDrill restore-drill warning",
    ]);
    expect(lastGood!.expr).toBe(
      '(time() - max(opsbook_backup_last_success_timestamp_seconds{database="app"}) > 100800) or absent(opsbook_backup_last_success_timestamp_seconds{database="app"})',
    );
    const map = fs.readFileSync(path.join(__dirname, "../../../docs/runbooks.md"), "utf8");
    expect(map).toMatch(/^## Backups$/m);
    for (const r of group.rules) {
      expect(r.annotations.runbook_url).toBe(`${RUNBOOK}#backups`);
      const errors: number[] = [];
      parser.parse(r.expr).iterate({ enter: (n) => void (n.type.isError && errors.push(n.from)) });
      expect(errors).toEqual([]);
    }
  });

  test("promtool: fires 28 h after the last good backup and not before, when none exists, and while the last drill failed", () => {
    expect(promtool("check", "rules", path.join(dir, "rules.yml")).output).toContain("SUCCESS: 2 rules found");
    // A backup at 60 s pushed once; Prometheus scrapes the same value from the Pushgateway ever after
    // (a sample an hour, evaluated at the samples: the rule engine looks back 5 min).
    const tests = {
      rule_files: ["rules.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1h",
          input_series: [
            { series: 'opsbook_backup_last_success_timestamp_seconds{database="app"}', values: "60+0x40" },
            { series: 'opsbook_restore_drill_success{database="app"}', values: "1 1 0 0 1" },
          ],
          alert_rule_test: [
            { eval_time: "27h", alertname: "LastGoodBackup", exp_alerts: [] },
            { eval_time: "28h2m", alertname: "LastGoodBackup", exp_alerts: expected(lastGood) },
            { eval_time: "1h", alertname: "RestoreDrill", exp_alerts: [] },
            { eval_time: "2h", alertname: "RestoreDrill", exp_alerts: expected(drill) },
            { eval_time: "3h", alertname: "RestoreDrill", exp_alerts: expected(drill) },
            { eval_time: "4h", alertname: "RestoreDrill", exp_alerts: [] },
          ],
        },
        {
          interval: "1h",
          input_series: [{ series: 'opsbook_restore_drill_success{database="app"}', values: "1x5" }],
          alert_rule_test: [{ eval_time: "1h", alertname: "LastGoodBackup", exp_alerts: expected(lastGood) }],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "tests.yml"), stringify(tests));
    const r = promtool("test", "rules", path.join(dir, "tests.yml"));
    expect({ status: r.status, output: r.output }).toEqual({
      status: 0,
      output: expect.stringContaining("SUCCESS") as string,
    });
  });
});
