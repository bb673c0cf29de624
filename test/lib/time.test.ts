import {
  dailyOverlapsWeekly,
  formatDailyWindow,
  localToUtcMinutes,
  localDailyRunUtc,
  longestDailyGapMinutes,
  rpoAlarmHours,
  parseHhmm,
  parseWeeklyWindow,
  standardOffsetMinutes,
} from "../../lib/time";

describe("time of day", () => {
  test("parses and formats HH:MM", () => {
    expect(parseHhmm("02:30")).toBe(150);
    expect(() => parseHhmm("24:00")).toThrow('"24:00" is not a time of day "HH:MM"');
    expect(formatDailyWindow(23 * 60 + 30, 60)).toBe("23:30-00:30");
  });

  test.each([
    ["UTC", 0],
    ["Europe/London", 0],
    ["Europe/Berlin", 60],
    ["America/New_York", -300],
    ["Australia/Sydney", 600],
    ["Asia/Kolkata", 330],
  ])("standard offset of %s is %d minutes", (zone, offset) => {
    expect(standardOffsetMinutes(zone)).toBe(offset);
  });

  test.each([
    ["02:00", "UTC", "02:00"],
    ["02:00", "Europe/Berlin", "01:00"],
    ["02:00", "America/New_York", "07:00"],
    ["02:00", "Australia/Sydney", "16:00"],
  ])("%s in %s is %s UTC", (local, zone, utc) => {
    expect(formatDailyWindow(localToUtcMinutes(local, zone), 0).slice(0, 5)).toBe(utc);
  });
});

describe("weekly windows", () => {
  test("measures from Monday midnight and wraps over the week's end", () => {
    expect(parseWeeklyWindow("mon:00:00-mon:01:00")).toEqual({ start: 0, end: 60 });
    expect(parseWeeklyWindow("sun:23:30-mon:00:30")).toEqual({ start: 6 * 1440 + 1410, end: 7 * 1440 + 30 });
  });

  test.each([
    [120, 60, "sun:02:30-sun:03:30", true],
    [120, 60, "sun:03:00-sun:04:00", false], // touching is not overlapping
    [120, 60, "wed:01:00-wed:02:01", true],
    [0, 60, "sun:23:30-mon:00:30", true], // wraps into Monday
    [23 * 60 + 30, 60, "mon:00:00-mon:00:30", true], // the daily window wraps past midnight
    [120, 60, "sun:04:00-sun:05:00", false],
  ])("daily %d+%d vs %s -> %s", (start, length, weekly, overlaps) => {
    expect(dailyOverlapsWeekly(start, length, parseWeeklyWindow(weekly))).toBe(overlaps);
  });
});

describe("daily schedules across clock changes (R-backup-rpo)", () => {
  test("a run at 01:30 in London: the later instant on the repeated autumn hour, after the jump in spring", () => {
    expect(new Date(localDailyRunUtc("Europe/London", 2026, 10, 25, 90)).toISOString()).toBe(
      "2026-10-25T01:30:00.000Z",
    );
    expect(new Date(localDailyRunUtc("Europe/London", 2026, 3, 29, 90)).toISOString()).toBe("2026-03-29T01:30:00.000Z");
    expect(new Date(localDailyRunUtc("Europe/London", 2026, 7, 1, 120)).toISOString()).toBe("2026-07-01T01:00:00.000Z");
  });

  test.each([
    ["Europe/London", 25 * 60],
    ["America/New_York", 25 * 60],
    ["Australia/Lord_Howe", 24 * 60 + 30],
    ["UTC", 24 * 60],
    ["Asia/Kolkata", 24 * 60],
  ])("the longest gap between two 02:00 runs in %s is %d min", (zone, minutes) => {
    expect(longestDailyGapMinutes("02:00", zone)).toBe(minutes);
  });

  test("the RPO alarm allows the longest gap, the run time and an hour of bucketing, never less than the RPO", () => {
    const backup = { dailyAt: "02:00", timeZone: "Europe/London", maxRunMinutes: 120 };
    expect(rpoAlarmHours({ ...backup, rpoHours: 24 })).toBe(28);
    expect(rpoAlarmHours({ ...backup, timeZone: "UTC", rpoHours: 24 })).toBe(27);
    expect(rpoAlarmHours({ ...backup, rpoHours: 48 })).toBe(51);
  });
});
