/**
 * `opsbook:deploy`: when a stack may take a release (R-deploy-windows), where the release notices
 * go (R-deploy-notify) and the smoke checks after it (R-deploy-smoke-tests). The program only
 * validates these and publishes them as the stack output `deploy`; the `opsbook` command reads
 * that output, so there is one copy of them.
 */
import { z } from "zod";
import { CLOSED_WEEKDAYS } from "../../lib/deployWindows";
import { bool, hhmm, int, listOf, matching, oneOf, report, ON_VALID, type Report } from "../../lib/schema";
import { parseHhmm, WEEKDAYS } from "../../lib/time";

const HTTP_PATH = /^\/[A-Za-z0-9_\-./?=&%]*$/;
const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

export const deployWindowSettings = z
  .strictObject(
    {
      days: listOf(oneOf(WEEKDAYS), "weekdays", 7).describe("weekdays of the window, e.g. `[tue, wed]`"),
      from: hhmm.describe("local time the window opens"),
      to: hhmm.describe("local time the window closes (exclusive)"),
    },
    { error: '{ days, from, to }, e.g. { days: [tue, wed], from: "10:00", to: "14:00" }' },
  )
  .superRefine((w, ctx) => {
    if (parseHhmm(w.to) <= parseHhmm(w.from))
      report(ctx, ["to"], w.to, `a time after from (${w.from}) on the same day`);
    w.days.forEach((d, n) => {
      if (CLOSED_WEEKDAYS.includes(d)) report(ctx, ["days", n], d, "mon, tue, wed or thu: never Fridays or weekends");
    });
  }, ON_VALID);

export const smokeCheckSettings = z.strictObject(
  {
    path: matching(HTTP_PATH, 'a path starting with "/", e.g. /api/status').describe("request path"),
    status: int(100, 599).default(200).describe("HTTP status the check expects"),
  },
  { error: "{ path, status }" },
);

export const deploySettings = z
  .strictObject(
    {
      anyTime: bool().default(false).describe("deploy at any time; staging sets it, production keeps the windows"),
      windows: listOf(deployWindowSettings, "windows", 14)
        .default([{ days: ["tue", "wed"], from: "10:00", to: "14:00" }])
        .describe("weekly windows, local to `timeZone`, in which a normal deploy may start (runbook 002's default)"),
      holidays: listOf(matching(ISO_DATE, 'a date "YYYY-MM-DD"'), "dates", 100)
        .default([])
        .describe("local dates on which nothing but a hotfix ships"),
      monthEndDays: int(0, 7, " days")
        .default(1)
        .describe("the last this many days of each month are closed (month-end freeze)"),
      notifyTopic: matching(SNS_TOPIC_ARN, "an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:releases")
        .optional()
        .describe("topic for deploy start, end and rollback notices (default: the stack's warning topic)"),
      smokeChecks: z
        .record(z.string({ error: "a service name" }), listOf(smokeCheckSettings, "smoke checks", 20), {
          error: "a map of service name: [{ path, status }]",
        })
        .default({})
        .describe("per service, requests through the load balancer that must answer `status` after a deploy"),
    },
    { error: "{ anyTime, windows, holidays, monthEndDays, notifyTopic, smokeChecks }" },
  )
  .prefault({})
  .describe("deploy windows, notices and smoke checks read by the `opsbook` command");

export type DeploySettings = z.output<typeof deploySettings>;

/** Smoke checks name services that exist. Paths are relative to `opsbook:deploy`. */
export function deployStackRules(deploy: DeploySettings, services: readonly { name: string }[], add: Report): void {
  const names = services.map((s) => s.name);
  for (const name of Object.keys(deploy.smokeChecks)) {
    if (!names.includes(name)) add(["smokeChecks", name], name, `a service of opsbook:services (${names.join(", ")})`);
  }
}
