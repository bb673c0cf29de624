import { deploySettings, deployStackRules } from "../../../components/deploy/settings";
import { settingsProblems } from "../../helpers/settings";

describe("deploy settings", () => {
  test("defaults are runbook 002's: Tuesday and Wednesday 10:00-14:00, month-end closed, no smoke checks", () => {
    expect(deploySettings.parse(undefined)).toEqual({
      anyTime: false,
      windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
      holidays: [],
      monthEndDays: 1,
      smokeChecks: {},
    });
  });

  test("a smoke check expects 200 unless told otherwise", () => {
    expect(deploySettings.parse({ smokeChecks: { api: [{ path: "/api/status" }] } }).smokeChecks).toEqual({
      api: [{ path: "/api/status", status: 200 }],
    });
  });

  test.each<[string, unknown, string[]]>([
    [
      "a Friday window",
      { windows: [{ days: ["thu", "fri"], from: "10:00", to: "14:00" }] },
      ["windows[0].days[1]: mon, tue, wed or thu: never Fridays or weekends"],
    ],
    [
      "a window that closes before it opens",
      { windows: [{ days: ["tue"], from: "14:00", to: "10:00" }] },
      ["windows[0].to: a time after from (14:00) on the same day"],
    ],
    ["a holiday that is not a date", { holidays: ["25/12/2026"] }, ['holidays[0]: a date "YYYY-MM-DD"']],
    [
      "a smoke check status out of range",
      { smokeChecks: { api: [{ path: "/", status: 700 }] } },
      ["smokeChecks.api[0].status: a whole number from 100 to 599"],
    ],
    [
      "a notify topic that is not an ARN",
      { notifyTopic: "releases" },
      ["notifyTopic: an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:releases"],
    ],
    ["an unknown key", { window: [] }, [": { anyTime, windows, holidays, monthEndDays, notifyTopic, smokeChecks }"]],
  ])("rejects %s", (_, input, problems) => {
    expect(settingsProblems(deploySettings, input)).toEqual(problems);
  });

  test("smoke checks name services of the stack", () => {
    const found: unknown[] = [];
    deployStackRules(
      deploySettings.parse({ smokeChecks: { api: [{ path: "/" }], admin: [{ path: "/" }] } }),
      [{ name: "api" }, { name: "web" }],
      (...a) => found.push(a),
    );
    expect(found).toEqual([[["smokeChecks", "admin"], "admin", "a service of opsbook:services (api, web)"]]);
  });
});
