import { dailyMeetsWeekly, parseDailyWindow, parseWeeklyWindow } from "../../rules/windows";

describe("window arithmetic", () => {
  test.each([
    ["02:00-03:00", { start: 120, end: 180 }],
    ["23:30-00:30", { start: 1410, end: 1470 }],
    ["2:00-3:00", undefined],
    ["24:00-01:00", undefined],
    [undefined, undefined],
  ])("parses the daily window %p", (text, expected) => {
    expect(parseDailyWindow(text)).toEqual(expected);
  });

  test.each([
    ["mon:00:00-mon:01:00", { start: 0, end: 60 }],
    ["Sun:23:00-mon:01:00", { start: 6 * 1440 + 1380, end: 7 * 1440 + 60 }],
    ["sun:04:00-xyz:05:00", undefined],
  ])("parses the weekly window %p", (text, expected) => {
    expect(parseWeeklyWindow(text)).toEqual(expected);
  });

  test.each([
    ["02:00-03:00", "sun:04:00-sun:05:00", false],
    ["04:30-05:30", "sun:04:00-sun:05:00", true],
    ["03:00-04:00", "sun:04:00-sun:05:00", false],
    ["00:30-01:00", "sun:23:00-mon:01:00", true],
    ["23:30-00:30", "mon:00:00-mon:00:15", true],
  ])("daily %s meets weekly %s: %p", (daily, weekly, expected) => {
    expect(dailyMeetsWeekly(parseDailyWindow(daily)!, parseWeeklyWindow(weekly)!)).toBe(expected);
  });
});
