/**
 * The image's entry point, built the way the Dockerfile builds it (`npm run build`, an esbuild
 * bundle) and run as a plain node process, as ECS runs it.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./support/ports";

const REPO_ROOT = resolve(__dirname, "../../..");
let outDir: string;
let bundle: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "opsbook-backup-bundle-"));
  bundle = join(outDir, "cli.js");
  await promisify(execFile)(
    "npm",
    ["run", "--silent", "build", "--workspace", "jobs/backup", "--", `--outfile=${bundle}`, "--log-level=warning"],
    {
      cwd: REPO_ROOT,
      timeout: 60_000,
    },
  );
}, 60_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  output: string;
}

/** Runs the bundle with exactly `env` (nothing inherited) and parses its JSON log lines. */
function runBundle(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      const lines = output
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      resolvePromise({ code, lines, output });
    });
  });
}

describe("the bundled entry point", () => {
  test("exits 2 with one error line when the configuration is invalid, without echoing the password", async () => {
    const outcome = await runBundle(["backup"], {
      PGHOST: "db",
      PGPORT: "99999",
      PGDATABASE: "app",
      PGUSER: "backup",
      PGPASSWORD: "hunter2-secret",
      AWS_REGION: "eu-west-1",
    });

    expect(outcome.code).toBe(2);
    expect(outcome.lines.map((l) => [l.level, l.command, l.message])).toEqual([
      [
        "error",
        "backup",
        'invalid configuration (2 problems): PGPORT="99999" is invalid (PostgreSQL port). Allowed: an integer from 1 to 65535. ' +
          "BACKUP_BUCKET is not set (the S3 bucket that holds the dumps). Allowed: an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.",
      ],
    ]);
    expect(outcome.output).not.toContain("hunter2-secret");
  }, 30_000);

  test("exits 2 on an unknown command", async () => {
    const outcome = await runBundle(["restore"], {});
    expect(outcome.code).toBe(2);
    expect(outcome.lines.map((l) => l.message)).toEqual([
      'usage: opsbook-backup <backup|restore-drill|bootstrap-roles|maintenance-analyze|maintenance-vacuum> (got: ["restore"])',
    ]);
  }, 30_000);

  test("loads the AWS SDK, fails with the bucket's name when S3 is unreachable, and logs metrics when they are disabled", async () => {
    const closedPort = await freePort();
    const outcome = await runBundle(["backup"], {
      PGHOST: "127.0.0.1",
      PGDATABASE: "app",
      PGUSER: "backup",
      BACKUP_BUCKET: "opsbook-backups",
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      S3_ENDPOINT: `http://127.0.0.1:${closedPort}`,
      METRICS_ENABLED: "false",
    });

    expect(outcome.code).toBe(1);
    expect(outcome.lines.map((l) => l.message)).toEqual([
      "backup starting",
      "metrics disabled (METRICS_ENABLED=false); not published",
      expect.stringMatching(/^backup failed: cannot reach S3 bucket "opsbook-backups": .*ECONNREFUSED/),
    ]);
    expect(outcome.lines[1]).toMatchObject({ database: "app", BackupSuccess: 0 });
  }, 30_000);
});
