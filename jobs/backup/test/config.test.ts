import { ConfigError, childEnvironment, loadConfig, secretValues, showValue, type Env } from "../src/config";

const VALID: Env = {
  PATH: "/usr/local/bin:/usr/bin",
  HOME: "/home/node",
  PGHOST: "db.internal",
  PGDATABASE: "app",
  PGUSER: "backup",
  PGPASSWORD: "s3cret-from-secrets-manager",
  BACKUP_BUCKET: "opsbook-production-backups",
  AWS_REGION: "eu-west-1",
  AWS_SECRET_ACCESS_KEY: "never-for-children",
};

/** The problems loadConfig reports for `env`; fails the test if it accepts it. */
function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("loadConfig accepted an invalid environment");
}

describe("loadConfig", () => {
  test("applies the defaults to a minimal production environment", () => {
    expect(loadConfig(VALID)).toEqual({
      postgres: { host: "db.internal", port: 5432, database: "app", user: "backup", sslMode: undefined },
      storage: {
        bucket: "opsbook-production-backups",
        prefix: "postgres",
        region: "eu-west-1",
        endpoint: undefined,
        forcePathStyle: false,
        partSizeBytes: 16 * 1024 * 1024,
      },
      metrics: { enabled: true, namespace: "Opsbook/Backup", endpoint: undefined, pushgatewayUrl: undefined },
      childEnv: {
        PATH: "/usr/local/bin:/usr/bin",
        HOME: "/home/node",
        PGHOST: "db.internal",
        PGPORT: "5432",
        PGDATABASE: "app",
        PGUSER: "backup",
        PGPASSWORD: "s3cret-from-secrets-manager",
        PGCONNECT_TIMEOUT: "10",
        PGAPPNAME: "opsbook-backup",
      },
    });
  });

  test("reads every optional variable", () => {
    const config = loadConfig({
      ...VALID,
      PGPORT: "6432",
      PGSSLMODE: "verify-full",
      BACKUP_PREFIX: "backups/postgres",
      S3_ENDPOINT: "http://127.0.0.1:4569",
      BACKUP_PART_SIZE_MIB: "5",
      METRICS_ENABLED: "false",
      METRICS_NAMESPACE: "Opsbook/Staging/Backup",
      CLOUDWATCH_ENDPOINT: "http://127.0.0.1:4582",
      PUSHGATEWAY_URL: "http://pushgateway.monitoring:9091",
    });
    expect(config.postgres).toEqual({
      host: "db.internal",
      port: 6432,
      database: "app",
      user: "backup",
      sslMode: "verify-full",
    });
    expect(config.storage).toEqual({
      bucket: "opsbook-production-backups",
      prefix: "backups/postgres",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:4569",
      forcePathStyle: true,
      partSizeBytes: 5 * 1024 * 1024,
    });
    expect(config.metrics).toEqual({
      enabled: false,
      namespace: "Opsbook/Staging/Backup",
      endpoint: "http://127.0.0.1:4582",
      pushgatewayUrl: "http://pushgateway.monitoring:9091",
    });
  });

  test("refuses a Pushgateway address that is no plain http(s) URL, naming what is allowed", () => {
    expect(() => loadConfig({ ...VALID, PUSHGATEWAY_URL: "pushgateway:9091" })).toThrow(
      new ConfigError([
        'PUSHGATEWAY_URL="pushgateway:9091" is invalid (Prometheus Pushgateway to push the metrics to instead of CloudWatch). Allowed: an http:// or https:// URL without credentials, e.g. http://pushgateway.monitoring:9091.',
      ]),
    );
  });

  test("path-style addressing follows the endpoint override unless set explicitly", () => {
    expect(loadConfig({ ...VALID, S3_ENDPOINT: "https://s3.example.test" }).storage.forcePathStyle).toBe(true);
    expect(
      loadConfig({ ...VALID, S3_ENDPOINT: "https://s3.example.test", S3_FORCE_PATH_STYLE: "false" }).storage
        .forcePathStyle,
    ).toBe(false);
  });

  test("an empty optional variable counts as unset", () => {
    expect(loadConfig({ ...VALID, PGPORT: "", METRICS_ENABLED: "" }).postgres.port).toBe(5432);
    expect(loadConfig({ ...VALID, METRICS_ENABLED: "" }).metrics.enabled).toBe(true);
  });

  test("names every missing required variable, what it is for and what is allowed", () => {
    expect(() => loadConfig({})).toThrow(
      new ConfigError([
        "PGHOST is not set (PostgreSQL host). Allowed: a host name, an IP address or a unix-socket directory, without spaces.",
        "PGDATABASE is not set (the database to back up; it is also part of the S3 keys). Allowed: 1-63 characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-'.",
        "PGUSER is not set (PostgreSQL role to connect as). Allowed: a role name without spaces.",
        "BACKUP_BUCKET is not set (the S3 bucket that holds the dumps). Allowed: an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.",
        "AWS_REGION is not set (AWS region of the bucket and the metrics). Allowed: an AWS region code such as eu-west-1.",
      ]),
    );
  });

  test("the error message counts the problems and lists them in order", () => {
    expect(() => loadConfig({ ...VALID, PGHOST: "" })).toThrow(
      "invalid configuration (1 problem): PGHOST is empty (PostgreSQL host). Allowed: a host name, an IP address or a unix-socket directory, without spaces.",
    );
  });

  test("shows each invalid value with what is allowed", () => {
    expect(
      problemsOf({
        ...VALID,
        PGPORT: "54x",
        PGSSLMODE: "on",
        PGDATABASE: "app db",
        BACKUP_BUCKET: "My_Bucket",
        BACKUP_PREFIX: "/postgres/",
        AWS_REGION: "Ireland",
        S3_ENDPOINT: "ftp://127.0.0.1",
        BACKUP_PART_SIZE_MIB: "4",
        METRICS_ENABLED: "yes",
        METRICS_NAMESPACE: "AWS/RDS",
      }),
    ).toEqual([
      'PGPORT="54x" is invalid (PostgreSQL port). Allowed: an integer from 1 to 65535.',
      `PGDATABASE="app db" is invalid (the database to back up; it is also part of the S3 keys). Allowed: 1-63 characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-'.`,
      'PGSSLMODE="on" is invalid (libpq TLS mode). Allowed: disable, allow, prefer, require, verify-ca, verify-full.',
      `BACKUP_BUCKET="My_Bucket" is invalid (the S3 bucket that holds the dumps). Allowed: an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.`,
      `BACKUP_PREFIX="/postgres/" is invalid (S3 key prefix for the dumps). Allowed: segments of A-Z, a-z, 0-9, '_' and '-' joined by single '/', no leading or trailing '/', at most 200 characters.`,
      'AWS_REGION="Ireland" is invalid (AWS region of the bucket and the metrics). Allowed: an AWS region code such as eu-west-1.',
      'S3_ENDPOINT="ftp://127.0.0.1" is invalid (S3-compatible endpoint override). Allowed: an http:// or https:// URL without credentials, e.g. http://127.0.0.1:4569.',
      'BACKUP_PART_SIZE_MIB="4" is invalid (multipart upload part size in MiB). Allowed: an integer from 5 to 512.',
      'METRICS_ENABLED="yes" is invalid (publish CloudWatch metrics). Allowed: true or false.',
      `METRICS_NAMESPACE="AWS/RDS" is invalid (CloudWatch namespace of the metrics). Allowed: 1-255 characters of A-Z, a-z, 0-9, '.', '-', '_', '/', '#' and ':', not starting with 'AWS/'.`,
    ]);
  });

  test("masks the password and never echoes it, even next to other problems", () => {
    let message = "";
    try {
      loadConfig({ ...VALID, PGPORT: "0", PGPASSWORD: "" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'invalid configuration (2 problems): PGPORT="0" is invalid (PostgreSQL port). Allowed: an integer from 1 to 65535. ' +
        'PGPASSWORD="" (masked) is invalid (PostgreSQL password). Allowed: a non-empty password, or leave it unset to use another libpq method such as PGPASSFILE.',
    );
    expect(message).not.toContain(VALID.PGPASSWORD);
  });

  test("rejects credentials embedded in an endpoint URL", () => {
    expect(problemsOf({ ...VALID, S3_ENDPOINT: "http://key:secret@127.0.0.1:4569" })).toHaveLength(1);
  });
});

describe("secretValues", () => {
  test("collects the values of secret-looking variables long enough to mask", () => {
    expect(
      secretValues({
        PGPASSWORD: "hunter2",
        AWS_SESSION_TOKEN: "tok-123",
        GITHUB_TOKEN: "abc",
        PGUSER: "backup",
        PGSSLMODE: "require",
      }),
    ).toEqual(["hunter2", "tok-123"]);
  });
});

describe("showValue", () => {
  test.each([
    ["PGPASSWORD", "hunter2", '"****" (masked)'],
    ["AWS_SESSION_TOKEN", "abc", '"****" (masked)'],
    ["SOME_SECRET", "", '"" (masked)'],
    ["PGPORT", "54x", '"54x"'],
  ])("%s=%s is shown as %s", (name, value, shown) => {
    expect(showValue(name, value)).toBe(shown);
  });
});

describe("childEnvironment", () => {
  test("passes libpq variables and the locale, keeps AWS credentials out, and keeps explicit libpq settings", () => {
    const env = childEnvironment(
      {
        PATH: "/bin",
        LANG: "C.UTF-8",
        PGHOST: "db",
        PGPASSWORD: "pw",
        PGSSLROOTCERT: "/etc/ssl/rds.pem",
        PGCONNECT_TIMEOUT: "30",
        AWS_ACCESS_KEY_ID: "AKIA",
        AWS_SECRET_ACCESS_KEY: "secret",
        BACKUP_BUCKET: "b",
      },
      5433,
    );
    expect(env).toEqual({
      PATH: "/bin",
      LANG: "C.UTF-8",
      PGHOST: "db",
      PGPASSWORD: "pw",
      PGSSLROOTCERT: "/etc/ssl/rds.pem",
      PGCONNECT_TIMEOUT: "30",
      PGAPPNAME: "opsbook-backup",
      PGPORT: "5433",
    });
  });
});

describe("the drill's variables", () => {
  const DRILL = {
    DRILL_SOURCE_INSTANCE: "opsbook-production",
    DRILL_INSTANCE_PREFIX: "opsbook-production-drill",
    DRILL_INSTANCE_CLASS: "db.t4g.medium",
    DRILL_SECURITY_GROUP_ID: "sg-0123456789abcdef0",
  };

  test("are read together, with the runbook's 4 h RTO by default", () => {
    expect(loadConfig({ ...VALID, ...DRILL }).drill).toEqual({
      sourceInstance: "opsbook-production",
      instancePrefix: "opsbook-production-drill",
      instanceClass: "db.t4g.medium",
      securityGroupId: "sg-0123456789abcdef0",
      rtoSeconds: 14400,
      createTimeoutMinutes: 60,
    });
    expect(loadConfig({ ...VALID, ...DRILL, DRILL_RTO_SECONDS: "7200" }).drill?.rtoSeconds).toBe(7200);
    expect(loadConfig(VALID).drill).toBeUndefined();
  });

  test("with the source set, each of the others is required and checked", () => {
    const { DRILL_INSTANCE_CLASS: _omitted, ...withoutClass } = DRILL;
    expect(problemsOf({ ...VALID, ...withoutClass })).toEqual([
      "DRILL_INSTANCE_CLASS is not set (instance class of the restore drill's temporary instance). Allowed: an RDS instance class, e.g. db.t4g.medium.",
    ]);
    expect(
      problemsOf({
        ...VALID,
        ...DRILL,
        DRILL_SOURCE_INSTANCE: "Prod_DB",
        DRILL_INSTANCE_PREFIX: "a".repeat(43),
        DRILL_RTO_SECONDS: "10",
      }),
    ).toEqual([
      'DRILL_SOURCE_INSTANCE="Prod_DB" is invalid (the RDS instance the restore drill copies its settings from, only ever described). Allowed: an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter.',
    ]);
    expect(problemsOf({ ...VALID, ...DRILL, DRILL_INSTANCE_PREFIX: "a".repeat(43), DRILL_RTO_SECONDS: "10" })).toEqual([
      `DRILL_INSTANCE_PREFIX="${"a".repeat(43)}" is invalid (identifier prefix of the restore drill's temporary instances). Allowed: 1-42 lower-case letters, digits and single hyphens, starting with a letter (21 characters are added).`,
      'DRILL_RTO_SECONDS="10" is invalid (the RTO in seconds the restore drill\'s time to recover is held to). Allowed: an integer from 60 to 604800.',
    ]);
  });

  test("DRILL_IN_SERVER beside an incomplete drill instance is refused, and a bad RTO is reported once", () => {
    expect(
      problemsOf({
        ...VALID,
        DRILL_SOURCE_INSTANCE: "opsbook-production",
        DRILL_IN_SERVER: "true",
        DRILL_RTO_SECONDS: "10",
      }),
    ).toEqual([
      "DRILL_INSTANCE_PREFIX is not set (identifier prefix of the restore drill's temporary instances). Allowed: 1-42 lower-case letters, digits and single hyphens, starting with a letter (21 characters are added).",
      "DRILL_INSTANCE_CLASS is not set (instance class of the restore drill's temporary instance). Allowed: an RDS instance class, e.g. db.t4g.medium.",
      "DRILL_SECURITY_GROUP_ID is not set (security group of the restore drill's temporary instance). Allowed: a security group id, e.g. sg-0123456789abcdef0.",
      'DRILL_RTO_SECONDS="10" is invalid (the RTO in seconds the restore drill\'s time to recover is held to). Allowed: an integer from 60 to 604800.',
      "DRILL_IN_SERVER=true and DRILL_SOURCE_INSTANCE are both set (restore drill into a throwaway database on the job's own server instead of an instance of its own). Allowed: one of them.",
    ]);
    expect(loadConfig({ ...VALID, DRILL_IN_SERVER: "true", DRILL_RTO_SECONDS: "7200" }).inServerDrill).toEqual({
      rtoSeconds: 7200,
    });
  });
});
