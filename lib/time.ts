/**
 * Pure time-of-day and maintenance-window arithmetic for the schedules in the stack config.
 *
 * AWS takes RDS and ElastiCache windows in UTC ("02:00-03:00", "sun:04:00-sun:05:00"), while the
 * runbooks speak of local time ("backups at 2 AM"). EventBridge Scheduler understands time zones
 * itself; RDS does not, so the backup window is converted once, at the zone's standard offset.
 */

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A span of minutes: [start, end) measured from midnight (daily) or Monday 00:00 (weekly). */
export interface Span {
  start: number;
  end: number;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** True for "HH:MM" on a 24-hour clock. */
export function isHhmm(value: string): boolean {
  return HHMM.test(value);
}

/** "02:30" -> 150. Throws on anything but "HH:MM". */
export function parseHhmm(value: string): number {
  const m = HHMM.exec(value);
  if (!m) throw new Error(`"${value}" is not a time of day "HH:MM"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** 150 -> "02:30"; wraps around midnight. */
export function formatHhmm(minutes: number): string {
  const m = ((minutes % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** True when `zone` is an IANA time zone this Node.js knows (e.g. "Europe/Berlin", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    zoneFormatter(zone); // throws a RangeError for an unknown zone; a known one's formatter is kept
    return true;
  } catch {
    return false;
  }
}

/**
 * One formatter per zone: making an `Intl.DateTimeFormat` costs far more than formatting with it,
 * and the RPO and window checks ask for thousands of offsets (it was the program's largest cost of
 * its own in a profile of the offline plan).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The memoised formatter of `zone`'s local date and time (24 h, numeric), with the short weekday
 * when asked for (the deploy windows read it).
 */
export function zoneFormatter(zone: string, withWeekday = false): Intl.DateTimeFormat {
  const key = `${zone}|${withWeekday}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      ...(withWeekday ? { weekday: "short" as const } : {}),
    });
    formatters.set(key, formatter);
  }
  return formatter;
}

function offsetMinutesAt(zone: string, utcMillis: number): number {
  const parts = zoneFormatter(zone).formatToParts(new Date(utcMillis));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
  return Math.round((local - utcMillis) / 60_000);
}

/**
 * The zone's standard (non-daylight-saving) offset from UTC in minutes. Daylight saving adds to
 * the standard offset in both hemispheres, so the smaller of a January and a July offset is it.
 */
export function standardOffsetMinutes(zone: string): number {
  const jan = offsetMinutesAt(zone, Date.UTC(2026, 0, 15, 12));
  const jul = offsetMinutesAt(zone, Date.UTC(2026, 6, 15, 12));
  return Math.min(jan, jul);
}

/** A local time of day in `zone` as minutes after midnight UTC, at the zone's standard offset. */
export function localToUtcMinutes(hhmm: string, zone: string): number {
  const utc = parseHhmm(hhmm) - standardOffsetMinutes(zone);
  return ((utc % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
}

/** A daily window as AWS writes it: "HH:MM-HH:MM" in UTC. */
export function formatDailyWindow(startMinutes: number, lengthMinutes: number): string {
  return `${formatHhmm(startMinutes)}-${formatHhmm(startMinutes + lengthMinutes)}`;
}

const WEEKLY =
  /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$/;

/** True for an AWS weekly window "ddd:HH:MM-ddd:HH:MM". */
export function isWeeklyWindow(value: string): boolean {
  return WEEKLY.test(value);
}

/** "sun:04:00-sun:05:00" -> minutes from Monday 00:00; a window over the week's end wraps. */
export function parseWeeklyWindow(value: string): Span {
  const m = WEEKLY.exec(value);
  if (!m) throw new Error(`"${value}" is not a weekly window "ddd:HH:MM-ddd:HH:MM"`);
  const at = (day: string, h: string, min: string): number =>
    WEEKDAYS.indexOf(day as Weekday) * MINUTES_PER_DAY + Number(h) * 60 + Number(min);
  const start = at(m[1]!, m[2]!, m[3]!);
  let end = at(m[4]!, m[5]!, m[6]!);
  if (end <= start) end += MINUTES_PER_WEEK;
  return { start, end };
}

function intersects(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Does a daily UTC window [start, start+length) overlap a weekly window on any day? */
export function dailyOverlapsWeekly(dailyStart: number, lengthMinutes: number, weekly: Span): boolean {
  // Shift the weekly span by one week both ways so windows that wrap past Sunday night still meet.
  const weeks = [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK].map((d) => ({ start: weekly.start + d, end: weekly.end + d }));
  for (let day = 0; day < 7; day++) {
    const daily = {
      start: day * MINUTES_PER_DAY + dailyStart,
      end: day * MINUTES_PER_DAY + dailyStart + lengthMinutes,
    };
    if (weeks.some((w) => intersects(daily, w))) return true;
  }
  return false;
}

/** The one-hour daily window that starts at `hhmm` local to `timeZone` (at its standard offset), in UTC: "HH:MM-HH:MM". */
export function dailyHourUtc(hhmm: string, timeZone: string): string {
  return formatDailyWindow(localToUtcMinutes(hhmm, timeZone), 60);
}

/** Does the one-hour daily window starting at `hhmm` local to `timeZone` overlap the weekly UTC window? */
export function dailyHourOverlaps(hhmm: string, timeZone: string, weeklyWindow: string): boolean {
  return dailyOverlapsWeekly(localToUtcMinutes(hhmm, timeZone), 60, parseWeeklyWindow(weeklyWindow));
}

/**
 * The UTC instant a scheduler running "every day at `minutes` local to `zone`" starts on the
 * given calendar day. Where the clock repeats an hour (autumn) the later of the two instants is
 * taken, and where it skips one (spring) the time after the jump: both the latest start a
 * scheduler may choose, so gaps computed from them are never too small.
 */
export function localDailyRunUtc(zone: string, year: number, month: number, day: number, minutes: number): number {
  const local = Date.UTC(year, month - 1, day, 0, minutes);
  const hour = 3_600_000;
  const offsets = [...new Set([offsetMinutesAt(zone, local - 36 * hour), offsetMinutesAt(zone, local + 36 * hour)])];
  const valid = offsets.map((o) => local - o * 60_000).filter((u) => offsetMinutesAt(zone, u) * 60_000 === local - u);
  return valid.length > 0 ? Math.max(...valid) : local - Math.min(...offsets) * 60_000;
}

/**
 * The longest time, in minutes, between two consecutive starts of a daily schedule at `hhmm`
 * local to `zone`, over every day of `year` and into the next: 24 h where the zone keeps one
 * offset, 25 h across an autumn clock change of one hour (R-backup-rpo).
 */
export function longestDailyGapMinutes(hhmm: string, zone: string, year = 2026): number {
  // A year of days is about 1,500 offsets: the answer is kept per schedule (the backup, the drill
  // and the maintenance jobs ask for the same few, and every alarm's settings ask again).
  const key = `${hhmm}|${zone}|${year}`;
  let longest = longestGaps.get(key);
  if (longest === undefined) {
    longest = computeLongestDailyGap(hhmm, zone, year);
    longestGaps.set(key, longest);
  }
  return longest;
}

const longestGaps = new Map<string, number>();

function computeLongestDailyGap(hhmm: string, zone: string, year: number): number {
  const minutes = parseHhmm(hhmm);
  let longest = 0;
  let previous = localDailyRunUtc(zone, year, 1, 1, minutes);
  for (let day = 2; day <= 370; day++) {
    const date = new Date(Date.UTC(year, 0, day));
    const start = localDailyRunUtc(zone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), minutes);
    longest = Math.max(longest, (start - previous) / 60_000);
    previous = start;
  }
  return longest;
}

/**
 * Hours without a verified backup after which the RPO alarm fires (R-backup-rpo). A daily job
 * at `dailyAt` in `timeZone` can leave up to the schedule's longest gap (25 h across an autumn
 * clock change) plus the difference in run time between two runs (at most `maxRunMinutes`)
 * between two successes; one more hour covers the alarm's hourly buckets, in which a success
 * late in one hour and the next early in another are a bucket further apart. The RPO itself is
 * the floor: a longer RPO never makes the alarm stricter than the operator asked.
 */
export function rpoAlarmHours(backup: {
  rpoHours: number;
  dailyAt: string;
  timeZone: string;
  maxRunMinutes: number;
}): number {
  const gap = Math.max(backup.rpoHours * 60, longestDailyGapMinutes(backup.dailyAt, backup.timeZone));
  return Math.ceil((gap + backup.maxRunMinutes) / 60) + 1;
}
