/**
 * A private PostgreSQL server for one test file: its own data directory under the OS temp dir,
 * listening on 127.0.0.1 only, on a free port, with password (SCRAM) authentication. When the
 * tests run as root (CI), the server runs as the `postgres` OS user, since PostgreSQL refuses root.
 */
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports";

const run = promisify(execFile);

const INSTALL_HINT = "install the server with: apt-get install -y postgresql";

export interface TestPostgres {
  readonly binDir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** libpq variables for this server, with the server's own client programs first on PATH. */
  env(database?: string): Record<string, string>;
  /** Runs SQL with psql and returns its unaligned, tuples-only output. */
  sql(statement: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

const hasServer = (dir: string): boolean => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));

/**
 * PG_BIN if set, else the newest /usr/lib/postgresql/<version>/bin holding a server.
 *
 * @throws if there is none: the integration tests fail rather than skip without a server
 */
export async function findServerBinaries(): Promise<string> {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (!hasServer(fromEnv))
      throw new Error(`PG_BIN=${fromEnv} does not contain initdb and pg_ctl; ${INSTALL_HINT}, or unset PG_BIN`);
    return fromEnv;
  }
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? (await readdir(root)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  const found = versions.map((v) => join(root, v, "bin")).find(hasServer);
  if (found === undefined) {
    throw new Error(
      `PostgreSQL server binaries (initdb, pg_ctl) were not found under ${root}/*/bin; ${INSTALL_HINT}, or point PG_BIN at them`,
    );
  }
  return found;
}

interface ServerUser {
  /** Prefix for commands that must run as the server's OS user. */
  wrap(command: string, args: string[]): [string, string[]];
  /** Hands a path to that user. */
  own(path: string): Promise<void>;
}

async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) {
    return { wrap: (command, args) => [command, args], own: () => Promise.resolve() };
  }
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  return {
    wrap: (command, args) => ["runuser", ["-u", "postgres", "--", command, ...args]],
    own: (path) => chown(path, uid, gid),
  };
}

/**
 * Creates, starts and returns a throwaway cluster. Durability settings are off: the data lives
 * for seconds and speed matters more. `settings` are further server parameters, e.g.
 * `shared_preload_libraries`.
 */
export async function startTestPostgres(settings: Record<string, string> = {}): Promise<TestPostgres> {
  const binDir = await findServerBinaries();
  const as = await serverUser();
  const dir = await mkdtemp(join(tmpdir(), "opsbook-backup-pg-"));
  const user = "opsbook_test";
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const dataDir = join(dir, "data");
  const passwordFile = join(dir, "password");
  await writeFile(passwordFile, password, { mode: 0o600 });
  await chmod(dir, 0o700);
  await as.own(dir);
  await as.own(passwordFile);

  const exec = async (command: string, args: string[]): Promise<void> => {
    const [program, programArgs] = as.wrap(join(binDir, command), args);
    // cwd: the server user may not be allowed into the directory the tests were started from.
    await run(program, programArgs, { cwd: dir, timeout: 30_000 });
  };
  await exec("initdb", [
    "-D",
    dataDir,
    "-U",
    user,
    `--pwfile=${passwordFile}`,
    "--auth=scram-sha-256",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);

  const port = await startServer(exec, binDir, dir, dataDir, settings);
  const env = (database = "postgres"): Record<string, string> => ({
    PATH: `${binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    PGHOST: "127.0.0.1",
    PGPORT: String(port),
    PGUSER: user,
    PGPASSWORD: password,
    PGDATABASE: database,
  });
  return {
    binDir,
    port,
    user,
    password,
    env,
    async sql(statement, database) {
      const args = [
        "--no-psqlrc",
        "--quiet",
        "--no-align",
        "--tuples-only",
        "--set",
        "ON_ERROR_STOP=1",
        "--command",
        statement,
      ];
      const { stdout } = await run(join(binDir, "psql"), args, { env: env(database), timeout: 30_000 });
      return stdout.trim();
    },
    async stop() {
      await exec("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the server on a free port, retrying if another process grabbed the port first. */
async function startServer(
  exec: (command: string, args: string[]) => Promise<void>,
  binDir: string,
  dir: string,
  dataDir: string,
  settings: Record<string, string>,
): Promise<number> {
  const logFile = join(dir, "server.log");
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const options = [
      `-p ${port}`,
      "-c listen_addresses=127.0.0.1",
      `-c unix_socket_directories=${dir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
    ].join(" ");
    try {
      await exec("pg_ctl", ["-D", dataDir, "-l", logFile, "-w", "-t", "20", "-o", options, "start"]);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  const log = await readFile(logFile, "utf8").catch(() => "(no server log)");
  throw new Error(`PostgreSQL from ${binDir} did not start: ${String(lastError)}\n${log.slice(-2000)}`);
}
