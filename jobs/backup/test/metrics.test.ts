import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  backupFailedMetrics,
  backupSucceededMetrics,
  cloudWatchPublisher,
  drillMetrics,
  loggingPublisher,
  METRIC,
} from "../src/metrics";
import { RecordingLogger } from "./support/recorders";

describe("metric values", () => {
  test("a verified backup reports success, its time in epoch seconds, its size and duration", () => {
    expect(backupSucceededMetrics(new Date("2026-11-22T02:03:10.900Z"), 7_340_032, 190.1234)).toEqual([
      { name: "BackupSuccess", value: 1, unit: "Count" },
      { name: "LastSuccessfulBackupTimestamp", value: 1795312990, unit: "Seconds" },
      { name: "BackupSizeBytes", value: 7_340_032, unit: "Bytes" },
      { name: "BackupDurationSeconds", value: 190.123, unit: "Seconds" },
    ]);
  });

  test("a failed backup reports only the failure, leaving the last good timestamp alone", () => {
    expect(backupFailedMetrics()).toEqual([{ name: "BackupSuccess", value: 0, unit: "Count" }]);
  });

  test("a drill reports success and time to recover, or only the failure", () => {
    expect(drillMetrics(true, 42.5)).toEqual([
      { name: "RestoreDrillSuccess", value: 1, unit: "Count" },
      { name: "RestoreDrillTimeToRecoverSeconds", value: 42.5, unit: "Seconds" },
    ]);
    expect(drillMetrics(false, undefined)).toEqual([{ name: "RestoreDrillSuccess", value: 0, unit: "Count" }]);
  });
});

describe("publishers", () => {
  test("CloudWatch gets one PutMetricData call with the namespace, the Database dimension and the timestamp", async () => {
    const inputs: unknown[] = [];
    const client = {
      send: (command: { input: unknown }) => {
        inputs.push(command.input);
        return Promise.resolve();
      },
    } as unknown as CloudWatchClient;
    const at = new Date("2026-11-22T02:03:10Z");

    await cloudWatchPublisher(client, "Opsbook/Backup").publish("app", backupFailedMetrics(), at);

    expect(inputs).toEqual([
      {
        Namespace: "Opsbook/Backup",
        MetricData: [
          {
            MetricName: METRIC.backupSuccess,
            Value: 0,
            Unit: "Count",
            Timestamp: at,
            Dimensions: [{ Name: "Database", Value: "app" }],
          },
        ],
      },
    ]);
  });

  test("with metrics disabled the values are logged instead", async () => {
    const log = new RecordingLogger();
    await loggingPublisher(log).publish("app", drillMetrics(true, 12), new Date());
    expect(log.lines).toEqual([
      {
        level: "info",
        message: "metrics disabled (METRICS_ENABLED=false); not published",
        fields: { database: "app", RestoreDrillSuccess: 1, RestoreDrillTimeToRecoverSeconds: 12 },
      },
    ]);
  });
});
