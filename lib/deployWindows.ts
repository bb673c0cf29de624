/**
 * Deploy windows (R-deploy-windows): when a stack may take a release. Pure: the clock is an
 * argument, so the rules are table-tested and the `opsbook deploy` command can be run at any time.
 *
 * Runbook 002 ships production on Tuesday and Wednesday 10:00-14:00, never on Fridays, weekends,
 * listed holidays or at month-end; hotfixes go any time (the command's `--hotfix`, not this file).
 */
import { parseHhmm, zoneFormatter, type Weekday } from "./time";

/** Days of the week on which a window may never open (runbook 002: not Fridays, not weekends). */
export const CLOSED_WEEKDAYS: readonly Weekday[] = ["fri", "sat", "sun"];

/** A weekly window in the stack's time zone: `from` inclusive, `to` exclusive, "HH:MM". */
export interface DeployWindow {
  days: Weekday[];
  from: string;
  to: string;
}

/** Everything that decides whether a deploy may start now; the stack output `deploy` carries it. */
export interface DeployCalendar {
  /** IANA zone the windows, holidays and month-end are meant in (`opsbook:timeZone`). */
  timeZone: string;
  /** Deploys at any time (staging); the other fields are then not consulted. */
  anyTime: boolean;
  windows: DeployWindow[];
  /** Local dates "YYYY-MM-DD" on which nothing ships. */
  holidays: string[];
  /** The last this many days of every month are closed (0: month-end is not special). */
  monthEndDays: number;
}

export type WindowVerdict = { open: true; why: string } | { open: false; why: string; nextOpen: Date | undefined };

/** The local calendar fields of `at` in `zone`. */
export function localParts(
  at: Date,
  zone: string,
): { date: string; weekday: Weekday; minutes: number; day: number; daysInMonth: number } {
  const parts = zoneFormatter(zone, true).formatToParts(at);
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
  const year = Number(get("year"));
  const month = Number(get("month"));
  const day = Number(get("day"));
  return {
    date: `${get("year")}-${get("month")}-${get("day")}`,
    weekday: get("weekday").toLowerCase().slice(0, 3) as Weekday,
    minutes: Number(get("hour")) * 60 + Number(get("minute")),
    day,
    // Day 0 of the next month is the last day of this one.
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** "tue, wed 10:00-14:00" */
export function describeWindow(w: DeployWindow): string {
  return `${w.days.join(", ")} ${w.from}-${w.to}`;
}

/** Why the calendar is closed at `at`, or undefined when a window is open. */
function closedBecause(calendar: DeployCalendar, at: Date): string | undefined {
  const found = check(calendar, at);
  return typeof found === "string" ? found : undefined;
}

/** The open window at `at`, or why there is none. */
function check(calendar: DeployCalendar, at: Date): string | DeployWindow {
  const local = localParts(at, calendar.timeZone);
  const when = `${local.weekday} ${local.date} ${String(Math.floor(local.minutes / 60)).padStart(2, "0")}:${String(local.minutes % 60).padStart(2, "0")} ${calendar.timeZone}`;
  if (calendar.holidays.includes(local.date)) return `${when} is a listed holiday`;
  if (local.day > local.daysInMonth - calendar.monthEndDays) {
    return `${when} is within the last ${calendar.monthEndDays} day(s) of the month (month-end freeze)`;
  }
  if (CLOSED_WEEKDAYS.includes(local.weekday)) return `${when}: no deploys on Fridays or weekends`;
  const open = calendar.windows.find(
    (w) => w.days.includes(local.weekday) && local.minutes >= parseHhmm(w.from) && local.minutes < parseHhmm(w.to),
  );
  if (open) return open;
  const windows = calendar.windows.map(describeWindow).join("; ") || "none";
  return `${when} is outside the deploy windows (${windows})`;
}

/** The first minute from `after` (exclusive) within `horizonDays` at which a window opens. */
export function nextOpening(calendar: DeployCalendar, after: Date, horizonDays = 62): Date | undefined {
  if (calendar.anyTime) return after;
  // Every zone's offset is a multiple of 15 minutes, so the verdict can only change on a multiple
  // of the common step of 15 and the windows' edges: check the next minute, then those instants.
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const step = calendar.windows.flatMap((w) => [parseHhmm(w.from), parseHhmm(w.to)]).reduce(gcd, 15) || 15;
  const first = Math.floor(after.getTime() / 60_000) + 1;
  const end = first + horizonDays * 24 * 60;
  for (
    let minute = first;
    minute < end;
    minute = minute === first ? Math.ceil((first + 1) / step) * step : minute + step
  ) {
    const at = new Date(minute * 60_000);
    if (closedBecause(calendar, at) === undefined) return at;
  }
  return undefined;
}

/** Whether a normal (not hotfix, not forced) deploy may start at `at`, and why. */
export function deployVerdict(calendar: DeployCalendar, at: Date): WindowVerdict {
  if (calendar.anyTime) return { open: true, why: "this stack deploys at any time" };
  const found = check(calendar, at);
  if (typeof found !== "string") {
    return { open: true, why: `inside the deploy window ${describeWindow(found)} ${calendar.timeZone}` };
  }
  return { open: false, why: found, nextOpen: nextOpening(calendar, at) };
}
