import { AlarmSet } from "../../../components/monitoring/alarmSet";
import { serviceAlarms } from "../../../components/monitoring/alarmCatalogue";
import { THRESHOLDS } from "../../../lib/thresholds";
import { ofType, recordResources, settle } from "../../helpers/mocks";

describe("AlarmSet", () => {
  test("declares one alarm per definition and severity, each sent to its severity's topic", async () => {
    const resources = await recordResources();
    const definitions = serviceAlarms({
      service: "api",
      clusterName: "c",
      serviceName: "s",
      loadBalancerArnSuffix: "lb",
      targetGroupArnSuffix: "tg",
      healthCheck: { intervalSeconds: 30, unhealthyThreshold: 3 },
      thresholds: THRESHOLDS,
    });
    new AlarmSet("prod", {
      namePrefix: "opsbook-prod",
      definitions,
      topicArns: { warning: "arn:warning", critical: "arn:critical" },
    });
    await settle();
    const alarms = ofType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).toHaveLength(10);
    for (const a of alarms) {
      const severity = (a.inputs.tags as Record<string, string>).severity;
      expect(a.inputs.alarmActions).toEqual([`arn:${severity}`]);
      expect(a.inputs.name).toBe(`opsbook-prod-api-${(a.inputs.tags as Record<string, string>).family}-${severity}`);
    }
  });

  test("refuses two alarms with one name", async () => {
    await recordResources();
    const [one] = serviceAlarms({
      service: "api",
      clusterName: "c",
      serviceName: "s",
      loadBalancerArnSuffix: "lb",
      targetGroupArnSuffix: "tg",
      healthCheck: { intervalSeconds: 30, unhealthyThreshold: 3 },
      thresholds: THRESHOLDS,
    });
    expect(
      () =>
        new AlarmSet("dup", { namePrefix: "p", definitions: [one!, one!], topicArns: { warning: "w", critical: "c" } }),
    ).toThrow("two alarms would be named p-api-http-error-rate-warning");
  });
});
