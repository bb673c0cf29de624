import { exposition, groupPath, pushgatewayPublisher } from "../src/pushgateway";
import { backupFailedMetrics, backupSucceededMetrics, drillMetrics } from "../src/metrics";
import { startTestPushgateway, type TestPushgateway } from "./support/pushgateway";

let gateway: TestPushgateway;
beforeAll(async () => {
  gateway = await startTestPushgateway();
});
afterAll(() => gateway.stop());

const finishedAt = new Date("2026-11-22T02:03:10.000Z");
const group = { job: "opsbook_backup", database: "app" };

describe("exposition", () => {
  test("each metric a gauge under its Prometheus name, one line each, ending in a line feed", () => {
    expect(exposition(backupSucceededMetrics(finishedAt, 2048, 12.5))).toBe(
      [
        "# TYPE opsbook_backup_success gauge",
        "opsbook_backup_success 1",
        "# TYPE opsbook_backup_last_success_timestamp_seconds gauge",
        "opsbook_backup_last_success_timestamp_seconds 1795312990",
        "# TYPE opsbook_backup_size_bytes gauge",
        "opsbook_backup_size_bytes 2048",
        "# TYPE opsbook_backup_duration_seconds gauge",
        "opsbook_backup_duration_seconds 12.5",
        "",
      ].join("\n"),
    );
  });

  test("the group is the job and the database, each value URL-encoded", () => {
    expect(groupPath("http://pg:9091/", "app")).toBe("http://pg:9091/metrics/job/opsbook_backup/database/app");
    expect(groupPath("http://pg:9091", "a b")).toBe("http://pg:9091/metrics/job/opsbook_backup/database/a%20b");
  });
});

describe("pushgatewayPublisher against a stand-in that speaks the push protocol", () => {
  test("POSTs text/plain to the group; a failure later keeps the last good backup's timestamp", async () => {
    const publisher = pushgatewayPublisher(gateway.url);
    await publisher.publish("app", backupSucceededMetrics(finishedAt, 2048, 12.5), finishedAt);
    await publisher.publish("app", backupFailedMetrics(), new Date("2026-11-23T02:00:00Z"));
    await publisher.publish("app", drillMetrics(true, 42.5), new Date("2026-11-22T06:00:00Z"));
    expect(gateway.requests.map((r) => [r.method, r.path, r.contentType])).toEqual(
      Array(3).fill(["POST", "/metrics/job/opsbook_backup/database/app", "text/plain; version=0.0.4; charset=utf-8"]),
    );
    expect(gateway.group(group)).toEqual({
      opsbook_backup_success: 0,
      opsbook_backup_last_success_timestamp_seconds: 1795312990,
      opsbook_backup_size_bytes: 2048,
      opsbook_backup_duration_seconds: 12.5,
      opsbook_restore_drill_success: 1,
      opsbook_restore_drill_time_to_recover_seconds: 42.5,
    });
    expect(await gateway.scrape()).toContain(
      'opsbook_backup_last_success_timestamp_seconds{database="app",job="opsbook_backup"} 1795312990',
    );
  });

  test("an answer other than 2xx fails the push, naming the address and the status", async () => {
    await expect(
      pushgatewayPublisher(`${gateway.url}/nowhere`).publish("app", backupFailedMetrics(), finishedAt),
    ).rejects.toThrow(
      `Pushgateway ${gateway.url}/nowhere/metrics/job/opsbook_backup/database/app answered 404 Not Found: not a push path`,
    );
  });
});
