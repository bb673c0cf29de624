import { cronSchedule } from "../../../components/kubernetes/backupJobs";
import { scheduleExpression } from "../../../components/backup/backups";

describe("cronSchedule", () => {
  test.each([
    ["02:00", undefined, "0 2 * * *"],
    ["23:05", undefined, "5 23 * * *"],
    ["06:00", "SUN", "0 6 * * 0"],
    ["04:30", "MON", "30 4 * * 1"],
    ["00:00", "SAT", "0 0 * * 6"],
  ] as const)("%s %s -> %s", (at, day, expected) => {
    expect(cronSchedule(at, day)).toBe(expected);
  });

  test("fires at the same minute, hour and weekday as the ECS schedule of the same settings", () => {
    const days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;
    for (const at of ["00:00", "02:00", "06:45", "13:59", "23:30"])
      for (const day of [undefined, ...days]) {
        const [min, hour, , , weekday] = cronSchedule(at, day).split(" ");
        const ecs = /^cron\((\d+) (\d+) [?*] \* (\S+) \*\)$/.exec(scheduleExpression(at, day))!;
        expect([min, hour]).toEqual([ecs[1], ecs[2]]);
        expect(weekday === "*" ? "?" : days[Number(weekday)]).toBe(ecs[3]);
      }
  });
});
