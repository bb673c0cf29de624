/**
 * Database maintenance (R-db-maintenance): the weekly `ANALYZE` and the monthly `VACUUM (ANALYZE)`
 * of runbook 001, each followed by the weekly "review slow queries" step as a report of the
 * slowest statements from `pg_stat_statements`, one JSON log line per statement.
 *
 * The job connects as the maintenance role, which by itself may only connect (R-db-roles). For
 * the maintenance it switches (SET ROLE) to `pg_maintain` where the server has it (PostgreSQL 17+),
 * else to the owner of the app's tables: before 17 only a table's owner may VACUUM it. For the
 * report it switches to `pg_read_all_stats`, which shows every role's statements.
 */
import { DATABASE_ROLES } from "../../../lib/databaseRoles";
import { BACKUP_METRIC, type MaintenanceTask } from "../../../lib/backupContract";
import { describeExit, startChild, succeeded } from "./child";
import type { MaintenanceConfig } from "./config";
import { publishAfterFailure, secondsSince, type JobDeps } from "./deps";
import { errorMessage, JobError } from "./errors";
import type { Metric } from "./metrics";
import { connectionTarget, ident, literal, runSql } from "./postgres";

/** The role that lets VACUUM and ANALYZE touch every table: PostgreSQL 17's, else the tables' owner. */
const MAINTAINER_ROLES = ["pg_maintain", DATABASE_ROLES.migrate] as const;

/** The statement each task runs; with no table list both cover every table the maintainer may maintain. */
const MAINTENANCE_STATEMENT: Record<MaintenanceTask, string> = {
  analyze: "ANALYZE",
  vacuum: "VACUUM (ANALYZE)",
};

/** Characters of a statement's text in the report: enough to recognise it, bounded for the log line. */
export const STATEMENT_TEXT_LIMIT = 2000;

/**
 * Which maintainer role the maintenance role may switch to (`pg_maintain` first), and whether
 * `pg_stat_statements` is installed, as one row `<role or empty>|<t|f>`.
 */
const PREFLIGHT_SQL = `SELECT coalesce((SELECT r.rolname FROM pg_roles r
  WHERE r.rolname IN (${MAINTAINER_ROLES.map(literal).join(", ")}) AND pg_has_role(session_user, r.oid, 'MEMBER')
  ORDER BY r.rolname = 'pg_maintain' DESC LIMIT 1), ''),
  EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_stat_statements')`;

/**
 * The report: the `limit` statements of this database with the highest mean execution time, as
 * one JSON object per line. pg_stat_statements stores statements with their constants replaced
 * by $1, $2, ...: the report shows no values the apps sent.
 */
function slowStatementsSql(limit: number): string {
  return `SELECT json_build_object(
  'rank', row_number() OVER (ORDER BY s.mean_exec_time DESC),
  'queryId', s.queryid::text,
  'role', s.userid::regrole::text,
  'calls', s.calls,
  'meanMs', round(s.mean_exec_time::numeric, 3),
  'maxMs', round(s.max_exec_time::numeric, 3),
  'totalMs', round(s.total_exec_time::numeric, 3),
  'rows', s.rows,
  'query', left(s.query, ${STATEMENT_TEXT_LIMIT})
)::text
FROM pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY s.mean_exec_time DESC
LIMIT ${limit}`;
}

/** The whole run as one psql script: maintenance as the maintainer, then the report as pg_read_all_stats. */
export function maintenanceScript(task: MaintenanceTask, maintainer: string, limit: number): string {
  // Not in one transaction: VACUUM refuses to run inside one. ON_ERROR_STOP ends the script at the first error.
  return `SET ROLE ${ident(maintainer)};
${MAINTENANCE_STATEMENT[task]};
RESET ROLE;
SET ROLE pg_read_all_stats;
${slowStatementsSql(limit)};
RESET ROLE;
`;
}

/** One line of the report. */
export interface SlowStatement {
  rank: number;
  queryId: string;
  role: string;
  calls: number;
  meanMs: number;
  maxMs: number;
  totalMs: number;
  rows: number;
  query: string;
}

/** The report's lines; anything else psql printed is an error (the script prints nothing else). */
export function parseSlowStatements(output: string): SlowStatement[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        // ANALYZE or VACUUM has run by now: the message must not read as if it had failed.
        throw new JobError(
          `the slow-statement report printed a line that is not a JSON object (expected one per statement, as the report's SELECT builds): ${line.slice(0, 200)}`,
        );
      }
      const row = parsed as Record<string, unknown>;
      const number = (key: string) => {
        const value = Number(row[key]);
        if (!Number.isFinite(value)) throw new JobError(`the slow-statement report's ${key} is not a number: ${line}`);
        return value;
      };
      return {
        rank: number("rank"),
        queryId: String(row.queryId),
        role: String(row.role),
        calls: number("calls"),
        meanMs: number("meanMs"),
        maxMs: number("maxMs"),
        totalMs: number("totalMs"),
        rows: number("rows"),
        query: String(row.query),
      };
    });
}

/** Metrics of a maintenance run: its success (1 or 0), and on success the time the tables were last analyzed. */
export function maintenanceMetrics(task: MaintenanceTask, succeededAt: Date | undefined): Metric[] {
  const success = task === "analyze" ? BACKUP_METRIC.analyzeSuccess : BACKUP_METRIC.vacuumSuccess;
  if (succeededAt === undefined) return [{ name: success, value: 0, unit: "Count" }];
  return [
    { name: success, value: 1, unit: "Count" },
    {
      name: BACKUP_METRIC.lastSuccessfulAnalyzeTimestamp,
      value: Math.floor(succeededAt.getTime() / 1000),
      unit: "Seconds",
    },
  ];
}

/** What a run did, for its caller and its tests. */
export interface MaintenanceResult {
  task: MaintenanceTask;
  maintainer: string;
  statements: SlowStatement[];
}

/**
 * Runs one maintenance task and its report, and publishes its metrics (success 0 on any failure).
 *
 * @throws {JobError} naming what failed and where
 */
export async function runMaintenance(
  task: MaintenanceTask,
  config: MaintenanceConfig,
  deps: Pick<JobDeps, "metrics" | "log" | "now" | "signal">,
): Promise<MaintenanceResult> {
  const database = config.postgres.database;
  const startedAt = deps.now();
  let result: MaintenanceResult;
  try {
    result = await maintain(task, config, deps);
  } catch (error) {
    await publishAfterFailure(deps, database, maintenanceMetrics(task, undefined));
    throw error;
  }
  const finishedAt = deps.now();
  deps.log.info(`${MAINTENANCE_STATEMENT[task]} and the slow-statement report done`, {
    database,
    maintainer: result.maintainer,
    statements: result.statements.length,
    durationSeconds: secondsSince(deps, startedAt),
  });
  try {
    await deps.metrics.publish(database, maintenanceMetrics(task, finishedAt), finishedAt);
  } catch (error) {
    throw new JobError(
      `${MAINTENANCE_STATEMENT[task]} succeeded, but publishing its metrics failed, so the maintenance alarm will not see it: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return result;
}

async function maintain(
  task: MaintenanceTask,
  config: MaintenanceConfig,
  deps: Pick<JobDeps, "log" | "signal">,
): Promise<MaintenanceResult> {
  const pg = config.postgres;
  const [maintainer = "", installed] = (
    await runSql(pg, config.childEnv, PREFLIGHT_SQL, "finding the maintainer role")
  ).split("|");
  if (maintainer === "") {
    throw new JobError(
      `${pg.user} on ${connectionTarget(pg)} is a member of none of ${MAINTAINER_ROLES.join(", ")}: run the role bootstrap (bootstrap-roles), which grants it`,
    );
  }
  if (installed !== "t") {
    throw new JobError(
      `pg_stat_statements is not installed in ${connectionTarget(pg)}: run the role bootstrap (bootstrap-roles), which creates it; the parameter group must preload it (shared_preload_libraries)`,
    );
  }
  deps.log.info(`${MAINTENANCE_STATEMENT[task]} starting`, { target: connectionTarget(pg), maintainer });
  const child = startChild(
    "psql",
    ["--no-psqlrc", "--no-password", "--quiet", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1", "--file=-"],
    { env: config.childEnv, stdout: "capture", ...(deps.signal && { signal: deps.signal }) },
  );
  child.process.stdin.end(maintenanceScript(task, maintainer, config.slowStatements));
  const exit = await child.exit;
  if (!succeeded(exit)) {
    throw new JobError(
      `${MAINTENANCE_STATEMENT[task]} failed on ${connectionTarget(pg)}: ${describeExit("psql", exit)}`,
    );
  }
  const statements = parseSlowStatements(child.stdout());
  for (const s of statements) deps.log.info("slow statement", { database: pg.database, ...s });
  return { task, maintainer, statements };
}
