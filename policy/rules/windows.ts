/**
 * AWS maintenance and backup window arithmetic (pure). RDS and ElastiCache refuse a backup window
 * that overlaps the weekly maintenance window, but only when the change is applied: the pack says
 * so at preview time instead.
 */

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY = 24 * 60;
const WEEK = 7 * DAY;

/** A daily window "hh24:mi-hh24:mi" as [start, end) minutes of the day; end may pass midnight. */
export function parseDailyWindow(text: unknown): { start: number; end: number } | undefined {
  const m = typeof text === "string" ? /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null;
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  let end = Number(m[3]) * 60 + Number(m[4]);
  if (end <= start) end += DAY;
  return { start, end };
}

/** A weekly window "ddd:hh24:mi-ddd:hh24:mi" as [start, end) minutes of the week (Monday 00:00 = 0). */
export function parseWeeklyWindow(text: unknown): { start: number; end: number } | undefined {
  const m =
    typeof text === "string"
      ? /^([a-z]{3}):([01]\d|2[0-3]):([0-5]\d)-([a-z]{3}):([01]\d|2[0-3]):([0-5]\d)$/.exec(text.toLowerCase())
      : null;
  if (!m || !DAYS.includes(m[1]!) || !DAYS.includes(m[4]!)) return undefined;
  const start = DAYS.indexOf(m[1]!) * DAY + Number(m[2]) * 60 + Number(m[3]);
  let end = DAYS.indexOf(m[4]!) * DAY + Number(m[5]) * 60 + Number(m[6]);
  if (end <= start) end += WEEK;
  return { start, end };
}

/** Whether a daily window, repeated every day, meets a weekly window. */
export function dailyMeetsWeekly(
  daily: { start: number; end: number },
  weekly: { start: number; end: number },
): boolean {
  // Eight days and three week offsets cover windows that wrap past Sunday midnight.
  for (let d = -1; d <= 7; d++) {
    for (const shift of [-WEEK, 0, WEEK]) {
      const s = d * DAY + daily.start;
      const e = d * DAY + daily.end;
      if (s < weekly.end + shift && weekly.start + shift < e) return true;
    }
  }
  return false;
}
