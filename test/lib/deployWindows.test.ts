import { deployVerdict, nextOpening, type DeployCalendar } from "../../lib/deployWindows";

const production: DeployCalendar = {
  timeZone: "Europe/London",
  anyTime: false,
  windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
  holidays: ["2026-12-08"],
  monthEndDays: 1,
};

describe("deploy windows (R-deploy-windows)", () => {
  test.each<[string, string, boolean, RegExp]>([
    [
      "Tuesday 10:00 London (winter, UTC+0)",
      "2026-11-03T10:00:00Z",
      true,
      /inside the deploy window tue, wed 10:00-14:00/,
    ],
    ["Tuesday 13:59 London", "2026-11-03T13:59:00Z", true, /inside/],
    ["Tuesday 14:00 London: the window has closed", "2026-11-03T14:00:00Z", false, /outside the deploy windows/],
    ["Tuesday 09:59 London", "2026-11-03T09:59:00Z", false, /outside/],
    ["Wednesday 11:00 London in summer time is 10:00 UTC", "2026-06-03T10:00:00Z", true, /inside/],
    ["Wednesday 09:30 UTC in summer is 10:30 London", "2026-06-03T09:30:00Z", true, /inside/],
    ["Wednesday 13:30 UTC in summer is 14:30 London", "2026-06-03T13:30:00Z", false, /outside/],
    ["Thursday", "2026-11-05T11:00:00Z", false, /outside/],
    ["Friday", "2026-11-06T11:00:00Z", false, /no deploys on Fridays or weekends/],
    ["Saturday", "2026-11-07T11:00:00Z", false, /Fridays or weekends/],
    ["Sunday", "2026-11-08T11:00:00Z", false, /Fridays or weekends/],
    ["a listed holiday on a Tuesday", "2026-12-08T11:00:00Z", false, /listed holiday/],
    ["the last day of the month, a Wednesday", "2026-09-30T10:30:00Z", false, /month-end freeze/],
    ["the day before the last, a Tuesday", "2026-09-29T10:30:00Z", true, /inside/],
  ])("%s", (_, at, open, why) => {
    const verdict = deployVerdict(production, new Date(at));
    expect(verdict.open).toBe(open);
    expect(verdict.why).toMatch(why);
  });

  test("month-end counts the month's own length: 28 February 2027 is the last day", () => {
    const twoDays = {
      ...production,
      windows: [{ days: ["mon" as const], from: "10:00", to: "14:00" }],
      monthEndDays: 1,
    };
    expect(deployVerdict(twoDays, new Date("2027-02-22T11:00:00Z")).open).toBe(true);
    expect(deployVerdict({ ...twoDays, monthEndDays: 7 }, new Date("2027-02-22T11:00:00Z")).open).toBe(false);
  });

  test("a closed verdict names the next opening: Friday afternoon -> Tuesday 10:00 London", () => {
    const verdict = deployVerdict(production, new Date("2026-11-06T15:00:00Z"));
    expect(verdict).toMatchObject({ open: false, nextOpen: new Date("2026-11-10T10:00:00Z") });
  });

  test("the next opening skips holidays and month-end", () => {
    // Tuesday 8 December is a holiday; Wednesday 9 December opens.
    expect(nextOpening(production, new Date("2026-12-04T12:00:00Z"))).toEqual(new Date("2026-12-09T10:00:00Z"));
    // Wednesday 30 September is month-end; Tuesday 6 October opens.
    expect(nextOpening(production, new Date("2026-09-29T14:00:00Z"))).toEqual(new Date("2026-10-06T09:00:00Z"));
  });

  test("staging deploys at any time, holidays and Fridays included", () => {
    const staging = { ...production, anyTime: true };
    expect(deployVerdict(staging, new Date("2026-12-08T11:00:00Z"))).toEqual({
      open: true,
      why: "this stack deploys at any time",
    });
    expect(deployVerdict(staging, new Date("2026-11-06T23:00:00Z")).open).toBe(true);
  });

  test("no window at all never opens, and says so", () => {
    const none = { ...production, windows: [] };
    expect(deployVerdict(none, new Date("2026-11-03T11:00:00Z"))).toMatchObject({
      open: false,
      why: expect.stringContaining("(none)") as unknown,
      nextOpen: undefined,
    });
  });
});
