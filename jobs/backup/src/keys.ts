/**
 * S3 key naming. Dumps are grouped by database and UTC day so that a lifecycle rule or a human
 * can find "the dumps of db X on day Y" by prefix; the pointer to the newest verified dump has a
 * fixed name per database.
 */

export interface BackupKeys {
  /** The pg_dump archive. */
  dump: string;
  /** The manifest (size, sha256, row counts) stored beside the dump. */
  manifest: string;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, "0");

/**
 * A UTC timestamp in ISO 8601 basic format with milliseconds, e.g. "20261122T020000.123Z": sortable,
 * and free of ':' which some S3 tools and URLs handle badly.
 */
export function keyTimestamp(at: Date): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `${date}T${time}.${pad(at.getUTCMilliseconds(), 3)}Z`;
}

/**
 * Keys for one backup, e.g. `postgres/app/2026/11/22/app-20261122T020000.123Z.dump` and the
 * matching `.manifest.json`.
 *
 * @param prefix key prefix without slashes at either end (validated by the config)
 * @param database database name (validated by the config to be key-safe)
 * @param at when the backup started
 */
export function backupKeys(prefix: string, database: string, at: Date): BackupKeys {
  const day = `${at.getUTCFullYear()}/${pad(at.getUTCMonth() + 1)}/${pad(at.getUTCDate())}`;
  const base = `${prefix}/${database}/${day}/${database}-${keyTimestamp(at)}`;
  return { dump: `${base}.dump`, manifest: `${base}.manifest.json` };
}

/**
 * Key of the pointer to the newest verified backup, e.g. `postgres/app/latest.json`.
 * Only a backup that passed verification is ever written here.
 */
export function latestKey(prefix: string, database: string): string {
  return `${prefix}/${database}/latest.json`;
}

/**
 * Name of the throwaway database a restore drill restores into, e.g.
 * `restore_drill_20261122t020000_3fa9`: unique per run, lower case so it needs no quoting, and
 * recognisable if a killed drill ever leaves one behind.
 *
 * @param at when the drill started
 * @param suffix a few random hex characters, so two drills in the same second do not collide
 */
export function drillDatabaseName(at: Date, suffix: string): string {
  return `restore_drill_${keyTimestamp(at).slice(0, 15).toLowerCase()}_${suffix}`;
}
