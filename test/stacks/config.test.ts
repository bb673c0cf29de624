import { ConfigError, parseConfig } from "../../stacks/config";
import { THRESHOLDS } from "../../lib/thresholds";

const services = [
  { name: "api", image: "registry.example.com/api", tag: "1.2.3", port: 8080, paths: ["/api/*"] },
  { name: "web", image: "registry.example.com/web", tag: "1.2.3", port: 3000 },
];

/** The smallest valid stack: everything else comes from the runbook defaults. */
function raw(overrides: Record<string, unknown> = {}): Record<string, string> {
  const values: Record<string, unknown> = {
    "aws:region": "eu-west-1",
    "opsbook:environment": "staging",
    "opsbook:services": services,
    "opsbook:domain": { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" },
    "opsbook:backup": { image: "registry.example.com/backup-job", tag: "1.0.0" },
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values))
    if (v !== undefined) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  return out;
}

function problemsOf(input: Record<string, string>) {
  try {
    parseConfig("staging", input);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig defaults", () => {
  const c = parseConfig("staging", raw());

  test("applies the runbook's health check, backup and threshold numbers", () => {
    expect(c.healthCheck).toEqual({
      path: "/health",
      intervalSeconds: 30,
      timeoutSeconds: 10,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
    });
    expect(c.postgres.backupRetentionDays).toBe(30);
    expect(c.postgres.backupWindowStart).toBe("02:00");
    expect(c.postgres.slowQueryMs).toBe(100);
    expect(c.postgres.pool).toEqual({ min: 5, max: 20 });
    expect(c.backup).toEqual({
      image: "registry.example.com/backup-job",
      tag: "1.0.0",
      clientMajor: 16,
      dailyAt: "02:00",
      retentionDays: 30,
      rpoHours: 24,
      maxRunMinutes: 120,
      restoreDrillDay: "SUN",
      restoreDrillAt: "06:00",
      drillInstanceClass: "db.t4g.medium",
      rtoHours: 4, // runbook 001: recover within 4 h
      objectLock: false,
    });
    // The runbook table (operations runbook), value by value.
    expect(c.thresholds).toEqual({
      httpErrorRatePercent: { warning: 1, critical: 5 },
      responseTimeP95Ms: { warning: 500, critical: 2000 },
      cpuPercent: { warning: 70, critical: 90 },
      memoryPercent: { warning: 80, critical: 95 },
      diskPercent: { warning: 80, critical: 95 },
      dbConnectionsPercent: { warning: 80, critical: 95 },
      cacheHitRatePercent: { warning: 80, critical: 50 },
      slowQueriesPerMinute: { warning: 10, critical: 60 },
      certificateDaysToExpiry: { warning: 30, critical: 7 },
    });
    expect(c.thresholds.cacheHitRatePercent).toEqual({ warning: 80, critical: 50 });
    expect(c.rollback).toEqual({ unhealthyForMinutes: 2, errorRatePercent: 10, errorRateForMinutes: 1 });
  });

  test("is secure and durable unless a stack says otherwise", () => {
    expect(c.protect).toBe(true);
    expect(c.postgres.multiAz).toBe(true);
    expect(c.postgres.deletionProtection).toBe(true);
    expect(c.postgres.engineVersion).toBe("16");
    expect(c.redis).toMatchObject({ engine: "redis", engineVersion: "7.1", nodes: 2, multiAz: true });
    expect(c.network.natGateways).toBe("perAz");
  });

  test("fills in service sizes and the region's first two zones", () => {
    expect(c.services[1]).toEqual({
      ...services[1],
      paths: [],
      hosts: [],
      cpu: 512,
      memory: 1024,
      desiredCount: 2,
      minCount: 2,
      maxCount: 6,
      scaling: { cpuTargetPercent: 60, requestsPerTarget: 1000 },
      environment: {},
      // Nothing unless declared (R-db-roles).
      uses: [],
      envNames: {},
      corsOrigins: [],
    });
    expect(c.network.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b"]);
    expect(c.region).toBe("eu-west-1");
    expect(c.stack).toBe("staging");
  });

  test("an override changes exactly that value", () => {
    const o = parseConfig("staging", raw({ "opsbook:thresholds": { cpuPercent: { warning: 75 } } }));
    expect(o.thresholds.cpuPercent).toEqual({ warning: 75, critical: 90 });
    expect({ ...o.thresholds, cpuPercent: THRESHOLDS.cpuPercent }).toEqual(THRESHOLDS);
  });

  test("reads quoted numbers and booleans as values (hand-edited YAML)", () => {
    const o = parseConfig(
      "staging",
      raw({ "opsbook:postgres": { backupRetentionDays: "14", multiAz: "false" }, "opsbook:protect": "false" }),
    );
    expect(o.postgres.backupRetentionDays).toBe(14);
    expect(o.postgres.multiAz).toBe(false);
    expect(o.protect).toBe(false);
  });
});

describe("parseConfig rejects bad input with the key, the value, what is allowed and the fix", () => {
  test.each<
    [
      string,
      Record<string, unknown>,
      { key: string; value: unknown; allowed: string | jest.AsymmetricMatcher; fix: string },
    ]
  >([
    [
      "retention above 35 days",
      { "opsbook:postgres": { backupRetentionDays: 40 } },
      {
        key: "opsbook:postgres.backupRetentionDays",
        value: 40,
        allowed: "a whole number from 1 to 35 days",
        fix: "pulumi config set --path 'opsbook:postgres.backupRetentionDays' '30' --stack staging",
      },
    ],
    [
      "a misspelled key",
      { "opsbook:network": { natGatways: "single" } },
      {
        key: "opsbook:network.natGatways",
        value: "single",
        allowed: 'no such key; did you mean "natGateways"? Known keys here: cidr, availabilityZones, natGateways',
        fix: "pulumi config rm --path 'opsbook:network.natGatways' --stack staging",
      },
    ],
    [
      "an unknown top-level key",
      { "opsbook:postgress": { multiAz: true } },
      {
        key: "opsbook:postgress",
        value: { multiAz: true },
        allowed: expect.stringContaining('no such key; did you mean "postgres"?') as jest.AsymmetricMatcher,
        fix: "pulumi config rm 'opsbook:postgress' --stack staging",
      },
    ],
    [
      "a wrong type",
      { "opsbook:redis": { nodes: "two" } },
      {
        key: "opsbook:redis.nodes",
        value: "two",
        allowed: "a whole number from 1 to 6",
        fix: "pulumi config set --path 'opsbook:redis.nodes' '2' --stack staging",
      },
    ],
    [
      "a value out of a fixed list",
      { "opsbook:logRetentionDays": 10 },
      {
        key: "opsbook:logRetentionDays",
        value: 10,
        allowed: expect.stringMatching(/^one of 1, 3, 5, 7, 14, 30/) as jest.AsymmetricMatcher,
        fix: "pulumi config set 'opsbook:logRetentionDays' '365' --stack staging",
      },
    ],
    [
      "a misspelled namespace",
      { "opsbok:protect": "true" },
      {
        key: "opsbok:protect",
        value: true,
        allowed: 'keys in the namespaces opsbook, aws, pulumi; did you mean "opsbook:protect"?',
        fix: "pulumi config rm 'opsbok:protect' --stack staging",
      },
    ],
    [
      "a missing region",
      { "aws:region": undefined },
      {
        key: "aws:region",
        value: undefined,
        allowed: "an AWS region, e.g. eu-west-1",
        fix: "pulumi config set aws:region eu-west-1 --stack staging",
      },
    ],
    [
      "a backup window overlapping maintenance",
      { "opsbook:postgres": { maintenanceWindow: "tue:02:30-tue:03:00" } },
      {
        key: "opsbook:postgres.maintenanceWindow",
        value: "tue:02:30-tue:03:00",
        allowed: "a window that does not overlap the daily backup window (02:00 UTC, one hour)",
        fix: "pulumi config set --path 'opsbook:postgres.maintenanceWindow' <value> --stack staging",
      },
    ],
    [
      "a Friday deploy window",
      { "opsbook:deploy": { windows: [{ days: ["fri"], from: "10:00", to: "12:00" }] } },
      {
        key: "opsbook:deploy.windows[0].days[0]",
        value: "fri",
        allowed: "mon, tue, wed or thu: never Fridays or weekends",
        fix: "pulumi config set --path 'opsbook:deploy.windows[0].days[0]' <value> --stack staging",
      },
    ],
    [
      "smoke checks for a service the stack does not run",
      { "opsbook:deploy": { smokeChecks: { admin: [{ path: "/" }] } } },
      {
        key: "opsbook:deploy.smokeChecks.admin",
        value: "admin",
        allowed: "a service of opsbook:services (api, web)",
        fix: "pulumi config set --path 'opsbook:deploy.smokeChecks.admin' <value> --stack staging",
      },
    ],
    [
      "Multi-AZ Redis with one node",
      { "opsbook:redis": { multiAz: true, nodes: 1 } },
      {
        key: "opsbook:redis.nodes",
        value: 1,
        allowed: "at least 2 when redis.multiAz is true (a primary and a replica in another zone)",
        fix: "pulumi config set --path 'opsbook:redis.nodes' '2' --stack staging",
      },
    ],
    [
      "an illegal Fargate CPU/memory pair",
      { "opsbook:services": [{ ...services[0], cpu: 256, memory: 4096 }, services[1]] },
      {
        key: "opsbook:services[0].memory",
        value: 4096,
        allowed: "with cpu 256: 512, 1024, 2048 MiB",
        fix: "pulumi config set --path 'opsbook:services[0].memory' '512' --stack staging",
      },
    ],
    [
      "min above max",
      { "opsbook:services": [services[0], { ...services[1], minCount: 5, maxCount: 3, desiredCount: 3 }] },
      {
        key: "opsbook:services[1].minCount",
        value: 5,
        allowed: "at most maxCount (3)",
        fix: "pulumi config set --path 'opsbook:services[1].minCount' <value> --stack staging",
      },
    ],
    [
      "duplicate paths",
      {
        "opsbook:services": [
          services[0],
          { ...services[1], name: "admin", port: 3001, paths: ["/api/*"] },
          { ...services[1], name: "web" },
        ],
      },
      {
        key: "opsbook:services[1].paths",
        value: ["/api/*"],
        allowed: 'routes no other service claims ("/api/*" already goes to api)',
        fix: "pulumi config set --path 'opsbook:services[1].paths' <value> --stack staging",
      },
    ],
    [
      "duplicate hosts",
      {
        "opsbook:services": [
          services[0],
          { ...services[1], name: "admin", port: 3001, hosts: ["admin.example.com"] },
          { ...services[1], name: "ops", port: 3002, hosts: ["admin.example.com"] },
          services[1],
        ],
      },
      {
        key: "opsbook:services[2].hosts",
        value: ["admin.example.com"],
        allowed: 'routes no other service claims ("admin.example.com" already goes to admin)',
        fix: "pulumi config set --path 'opsbook:services[2].hosts' <value> --stack staging",
      },
    ],
    [
      "duplicate ports",
      { "opsbook:services": [services[0], { ...services[1], port: 8080 }] },
      {
        key: "opsbook:services[1].port",
        value: 8080,
        allowed: "a port no other service uses (8080 is api's)",
        fix: "pulumi config set --path 'opsbook:services[1].port' <value> --stack staging",
      },
    ],
    [
      "a worker with hosts",
      {
        "opsbook:services": [
          ...services,
          { name: "worker", image: "registry.example.com/worker", tag: "1", hosts: ["w.example.com"] },
        ],
      },
      {
        key: "opsbook:services[2].hosts",
        value: ["w.example.com"],
        allowed: "no hosts for a service without a port (a worker gets no traffic)",
        fix: "pulumi config set --path 'opsbook:services[2].hosts' <value> --stack staging",
      },
    ],
    [
      "an inverted threshold pair",
      { "opsbook:thresholds": { memoryPercent: { warning: 95, critical: 80 } } },
      {
        key: "opsbook:thresholds.memoryPercent.critical",
        value: 80,
        allowed: "above the warning threshold (95): higher values are worse for memoryPercent",
        fix: "pulumi config set --path 'opsbook:thresholds.memoryPercent.critical' <value> --stack staging",
      },
    ],
    [
      "an inverted pair where lower is worse",
      { "opsbook:thresholds": { cacheHitRatePercent: { warning: 50, critical: 80 } } },
      {
        key: "opsbook:thresholds.cacheHitRatePercent.critical",
        value: 80,
        allowed: "below the warning threshold (50): lower values are worse for cacheHitRatePercent",
        fix: "pulumi config set --path 'opsbook:thresholds.cacheHitRatePercent.critical' <value> --stack staging",
      },
    ],
    [
      "a zone of another region",
      { "opsbook:network": { availabilityZones: ["eu-west-1a", "us-east-1b"] } },
      {
        key: "opsbook:network.availabilityZones[1]",
        value: "us-east-1b",
        allowed: "a zone of the stack's region eu-west-1, e.g. eu-west-1a",
        fix: "pulumi config set --path 'opsbook:network.availabilityZones[1]' 'eu-west-1b' --stack staging",
      },
    ],
    [
      "no certificate",
      { "opsbook:domain": { name: "app.example.com" } },
      {
        key: "opsbook:domain",
        value: { name: "app.example.com" },
        allowed: "{ certificateArn } of an ACM certificate, or { name, hostedZoneId } to request one validated by DNS",
        fix: "pulumi config set 'opsbook:domain' <value> --stack staging",
      },
    ],
    [
      "a service using an app secret the stack does not generate",
      { "opsbook:services": [{ ...services[0], uses: ["database", "STRIPE_KEY"] }, services[1]] },
      {
        key: "opsbook:services[0].uses[1]",
        value: "STRIPE_KEY",
        allowed:
          'database, cache, or one of appSecrets.names (JWT_SECRET, JWT_REFRESH_SECRET, SESSION_SECRET, ENCRYPTION_KEY); add "STRIPE_KEY" to appSecrets.names to generate it',
        fix: "pulumi config set --path 'opsbook:services[0].uses[1]' <value> --stack staging",
      },
    ],
    [
      "a migration for a service that does not exist",
      { "opsbook:migrations": { service: "backend" } },
      {
        key: "opsbook:migrations.service",
        value: "backend",
        allowed: "one of the configured services: api, web",
        fix: "pulumi config set --path 'opsbook:migrations.service' 'api' --stack staging",
      },
    ],
    [
      "an instance class whose memory is unknown, without maxConnections",
      { "opsbook:postgres": { instanceClass: "db.x2g.large" } },
      {
        key: "opsbook:postgres.maxConnections",
        value: undefined,
        allowed:
          "a number: instance class db.x2g.large is not in lib/instanceClasses.ts (known: db.t3.*, db.t4g.*, db.m5.*, db.m6g.*, db.m6i.*, db.m7g.*, db.r5.*, db.r6g.*, db.r6i.*, db.r7g.*), so its default max_connections is unknown: set postgres.maxConnections",
        fix: "pulumi config set --path 'opsbook:postgres.maxConnections' <value> --stack staging",
      },
    ],
    [
      "a restore from both a snapshot and a point in time",
      {
        "opsbook:postgres": {
          restore: { snapshotIdentifier: "opsbook-staging-final", sourceDbInstanceIdentifier: "opsbook-staging" },
        },
      },
      {
        key: "opsbook:postgres.restore",
        value: { snapshotIdentifier: "opsbook-staging-final", sourceDbInstanceIdentifier: "opsbook-staging" },
        allowed:
          "one of { snapshotIdentifier }, { sourceDbInstanceIdentifier, restoreTime? } or { sourceDbInstanceAutomatedBackupsArn, restoreTime? }",
        fix: "pulumi config set --path 'opsbook:postgres.restore' <value> --stack staging",
      },
    ],
    [
      "a restore from automated backups replicated to another region than the stack's",
      {
        "opsbook:postgres": {
          identifier: "opsbook-staging-2",
          restore: {
            sourceDbInstanceAutomatedBackupsArn:
              "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnop",
          },
        },
      },
      {
        key: "opsbook:postgres.restore.sourceDbInstanceAutomatedBackupsArn",
        value: "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnop",
        allowed:
          "an ARN in the stack's partition and region (arn:aws:rds:eu-west-1:...): RDS restores only where the backup is; run the restore as a stack in eu-central-1 (aws:region eu-central-1)",
        fix: "pulumi config set --path 'opsbook:postgres.restore.sourceDbInstanceAutomatedBackupsArn' <value> --stack staging",
      },
    ],
    [
      "a point-in-time restore into its own source's identifier",
      {
        "opsbook:postgres": {
          restore: { sourceDbInstanceIdentifier: "opsbook-staging", restoreTime: "2026-11-20T01:30:00Z" },
        },
      },
      {
        key: "opsbook:postgres.identifier",
        value: "opsbook-staging",
        allowed:
          'an identifier other than the restore\'s source "opsbook-staging": a point-in-time restore creates a new instance',
        fix: "pulumi config set --path 'opsbook:postgres.identifier' 'opsbook-staging-2' --stack staging",
      },
    ],
    [
      "an identifier RDS would refuse",
      { "opsbook:postgres": { identifier: "opsbook--db" } },
      {
        key: "opsbook:postgres.identifier",
        value: "opsbook--db",
        allowed:
          "an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter, not ending with '-'",
        fix: "pulumi config set --path 'opsbook:postgres.identifier' <value> --stack staging",
      },
    ],
    [
      "a Valkey version with engine redis",
      { "opsbook:redis": { engineVersion: "8.0" } },
      {
        key: "opsbook:redis.engineVersion",
        value: "8.0",
        allowed: "7.0 or 7.1 for engine redis; ElastiCache's later versions are Valkey's: set redis.engine to valkey",
        fix: "pulumi config set --path 'opsbook:redis.engineVersion' '7.1' --stack staging",
      },
    ],
    [
      "a Redis OSS version with engine valkey",
      { "opsbook:redis": { engine: "valkey", engineVersion: "7.1" } },
      {
        key: "opsbook:redis.engineVersion",
        value: "7.1",
        allowed: "7.2 or later for engine valkey; for Redis OSS 7.0 or 7.1 set redis.engine to redis",
        fix: "pulumi config set --path 'opsbook:redis.engineVersion' <value> --stack staging",
      },
    ],
    [
      "a backup image whose PostgreSQL client is not the engine's major",
      { "opsbook:postgres": { engineVersion: "17.2" } },
      {
        key: "opsbook:backup.clientMajor",
        value: 16,
        allowed:
          "17, the major of postgres.engineVersion (17.2): build the image with --build-arg PG_MAJOR=17, set backup.tag to it, then this",
        fix: "pulumi config set --path 'opsbook:backup.clientMajor' '17' --stack staging",
      },
    ],
    [
      "an autoscaling CPU target at the CPU warning threshold",
      { "opsbook:services": [{ ...services[0], scaling: { cpuTargetPercent: 70 } }, services[1]] },
      {
        key: "opsbook:services[0].scaling.cpuTargetPercent",
        value: 70,
        allowed:
          "below thresholds.cpuPercent.warning (70), or the CPU warning fires while autoscaling holds the target",
        fix: "pulumi config set --path 'opsbook:services[0].scaling.cpuTargetPercent' '60' --stack staging",
      },
    ],
    [
      "an RPO whose alarm window would outgrow CloudWatch's 7 days of one-hour periods",
      { "opsbook:backup": { image: "registry.example.com/backup-job", tag: "1.0.0", rpoHours: 168 } },
      {
        key: "opsbook:backup.rpoHours",
        value: 168,
        allowed:
          "a value that keeps the RPO alarm's window (171 h: the RPO or the schedule's longest gap, plus maxRunMinutes 120, plus 1 h) within CloudWatch's 168 h; lower rpoHours or maxRunMinutes",
        fix: "pulumi config set --path 'opsbook:backup.rpoHours' '165' --stack staging",
      },
    ],
    [
      "a health check timeout as long as the interval",
      { "opsbook:healthCheck": { timeoutSeconds: 30 } },
      {
        key: "opsbook:healthCheck.timeoutSeconds",
        value: 30,
        allowed: "less than healthCheck.intervalSeconds (30)",
        fix: "pulumi config set --path 'opsbook:healthCheck.timeoutSeconds' '10' --stack staging",
      },
    ],
  ])("%s", (_, overrides, problem) => {
    expect(problemsOf(raw(overrides))).toEqual([problem]);
  });

  test("lists every problem at once, in one message", () => {
    const input = raw({
      "opsbook:postgres": { backupRetentionDays: 0, instanceClass: "m5.large" },
      "opsbook:environment": "Prod!",
    });
    const err = (() => {
      try {
        parseConfig("production", input);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected a ConfigError");
    })();
    expect(err.problems.map((p) => p.key).sort()).toEqual([
      "opsbook:environment",
      "opsbook:postgres.backupRetentionDays",
      "opsbook:postgres.instanceClass",
    ]);
    expect(err.message).toContain('Stack "production" has 3 config problems; nothing was declared.');
    expect(err.message).toContain(
      '  - opsbook:postgres.instanceClass: got "m5.large"\n      allowed: an RDS instance class, e.g. db.t4g.medium',
    );
  });

  test("a time zone shifts the backup window before the overlap check", () => {
    // 02:00 in Berlin is 01:00 UTC, clear of a 02:30 UTC maintenance window.
    expect(() =>
      parseConfig(
        "staging",
        raw({ "opsbook:timeZone": "Europe/Berlin", "opsbook:postgres": { maintenanceWindow: "sun:02:30-sun:03:30" } }),
      ),
    ).not.toThrow();
    expect(problemsOf(raw({ "opsbook:postgres": { maintenanceWindow: "sun:02:30-sun:03:30" } }))).toHaveLength(1);
  });

  test("an unknown instance class is fine when maxConnections is set", () => {
    expect(
      parseConfig("staging", raw({ "opsbook:postgres": { instanceClass: "db.x2g.large", maxConnections: 400 } }))
        .postgres,
    ).toMatchObject({ instanceClass: "db.x2g.large", maxConnections: 400 });
  });

  test("a point-in-time restore into a new identifier is accepted, and the identifier defaults to opsbook-<environment>", () => {
    const restore = { sourceDbInstanceIdentifier: "opsbook-staging", restoreTime: "2026-11-20T01:30:00Z" };
    const c = parseConfig("staging", raw({ "opsbook:postgres": { identifier: "opsbook-staging-2", restore } }));
    expect(c.postgres).toMatchObject({ identifier: "opsbook-staging-2", restore });
    expect(parseConfig("staging", raw()).postgres.identifier).toBe("opsbook-staging");
  });

  test("a part given as something other than a map names the keys it takes", () => {
    expect(problemsOf(raw({ "opsbook:network": null }))).toEqual([
      {
        key: "opsbook:network",
        value: null,
        allowed: "a map with the keys cidr, availabilityZones, natGateways",
        fix: `pulumi config set 'opsbook:network' '{"cidr":"10.0.0.0/16","natGateways":"perAz"}' --stack staging`,
      },
    ]);
  });

  test("rejects an unknown time zone", () => {
    expect(problemsOf(raw({ "opsbook:timeZone": "Mars/Olympus" }))).toEqual([
      {
        key: "opsbook:timeZone",
        value: "Mars/Olympus",
        allowed: 'an IANA time zone, e.g. "UTC" or "Europe/Berlin"',
        fix: "pulumi config set 'opsbook:timeZone' 'UTC' --stack staging",
      },
    ]);
  });
});

/** The error for `input` with `secretKeys` marked secret, as Pulumi marks `secure:` keys. */
function errorOf(input: Record<string, string>, secretKeys: string[] = []): ConfigError {
  try {
    parseConfig("staging", input, new Set(secretKeys));
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const withEnvironment = (environment: Record<string, string>) => ({
  "opsbook:services": [{ ...services[0], environment }, services[1]],
});

describe("config safety: secrets never printed, never plain", () => {
  test("a secret under a misspelt key is named, its value never printed", () => {
    const error = errorOf(raw({ "opsbook:apiTokn": "s3cr3t-value-nobody-should-see" }), ["opsbook:apiTokn"]);
    expect(error.message).not.toContain("s3cr3t-value");
    expect(error.problems).toContainEqual(
      expect.objectContaining({ key: "opsbook:apiTokn", value: "[secret]" }) as unknown,
    );
  });

  test("a value that looks like a credential is masked even when the key is not secret", () => {
    const error = errorOf(raw({ "opsbook:postgress": { url: "postgres://app:hunter2@db.example.com/app" } }));
    expect(error.message).not.toContain("hunter2");
    expect(error.problems[0]).toMatchObject({ key: "opsbook:postgress", value: { url: "[masked]" } });
  });

  test("a secure: value in services is refused, not turned into a plain environment variable", () => {
    const error = errorOf(raw(withEnvironment({ STRIPE_KEY: "[secret opsbook:services.STRIPE_KEY]" })), [
      "opsbook:services",
    ]);
    expect(error.problems).toContainEqual({
      key: "opsbook:services",
      value: "[secret]",
      allowed: expect.stringContaining("no secure: values in services") as unknown,
      fix: expect.stringContaining("pulumi config set --path 'opsbook:services.<path>'") as unknown,
    });
    expect(error.message).not.toContain("STRIPE_KEY]");
  });

  test.each([
    ["by name", { DATABASE_PASSWORD: "changeme" }, "DATABASE_PASSWORD", /the name says it is one/],
    ["by name, a token", { GITHUB_TOKEN: "abc" }, "GITHUB_TOKEN", /the name says it is one/],
    [
      "a URL with a password",
      { DATABASE_URL: "postgres://app:hunter2@db:5432/app" },
      "DATABASE_URL",
      /a URL with a password/,
    ],
    ["an AWS access key id", { UPLOADS: "AKIAIOSFODNN7EXAMPLE" }, "UPLOADS", /an AWS access key id/],
    ["a GitHub token", { BOT: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }, "BOT", /a GitHub token/],
    ["a Slack token", { NOTIFY: "xoxb-1234567890-abcdefghij" }, "NOTIFY", /a Slack token/],
    ["a Stripe secret key", { PAYMENTS: "sk_live_51HabcdefGHIJKLmnop" }, "PAYMENTS", /a Stripe secret key/],
    [
      "a PEM key",
      { TLS: "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----" },
      "TLS",
      /a PEM private key/,
    ],
    ["a random-looking token", { SIGNUP: "q7Vx2LmP9sK4tR8wZ1nB6yC3" }, "SIGNUP", /a random-looking token/],
  ])("plain-text credentials in services[].environment are refused %s", (_what, environment, name, reason) => {
    const error = errorOf(raw(withEnvironment(environment)));
    const key = `opsbook:services[0].environment.${name}`;
    const problem = error.problems.find((p) => p.key === key);
    expect(problem).toMatchObject({
      value: "[masked]",
      fix: `pulumi config rm --path '${key}' --stack staging`,
    });
    expect(problem!.allowed).toMatch(reason);
    expect(problem!.allowed).toContain("appSecrets.names");
    expect(error.message).not.toContain(Object.values(environment)[0]!.slice(0, 12));
  });

  test("ordinary values pass: URLs without a password, versions, host names, paths, ids, words", () => {
    const environment = {
      LOG_LEVEL: "info",
      NODE_ENV: "production",
      API_URL: "https://api.example.com/v1/orders?page=2",
      REDIS_URL_HOSTNAME: "cache.internal.example.com",
      APP_VERSION: "1.24.3-rc.1+build.20261201",
      FEATURE_FLAGS: "checkout,new-search,dark-mode",
      UPLOAD_PATH: "/var/lib/app/uploads/2026/tmp",
      TENANT_ID: "550e8400-e29b-41d4-a716-446655440000",
      GIT_SHA: "0123456789abcdef0123456789abcdef01234567",
      TOKEN_TTL_SECONDS: "3600",
      PUBLIC_KEY_URL: "https://auth.example.com/.well-known/jwks.json",
      S3_PREFIX: "customer_exports_daily_v2",
      SENTRY_ENVIRONMENT: "eu-west-1-production",
    };
    expect(parseConfig("staging", raw(withEnvironment(environment))).services[0]!.environment).toEqual(environment);
  });
});

describe("config safety: the platform's own settings and AWS's limits", () => {
  test.each(["DB_SSLMODE", "REDIS_TLS", "DB_HOST", "APP_ROTATION_LABEL"])(
    "a service cannot override the platform's %s",
    (name) => {
      const key = `opsbook:services[0].environment.${name}`;
      expect(problemsOf(raw(withEnvironment({ [name]: "disable" })))).toEqual([
        {
          key,
          value: "disable",
          allowed: expect.stringContaining("a name the platform does not set itself (DB_HOST, DB_PORT") as unknown,
          fix: `pulumi config rm --path '${key}' --stack staging`,
        },
      ]);
    },
  );

  test("a service cannot set an app secret's name as a plain variable", () => {
    const key = "opsbook:services[0].environment.SESSION_SECRET_ROTATED";
    const problems = problemsOf(
      raw({
        ...withEnvironment({ SESSION_SECRET_ROTATED: "no" }),
        "opsbook:appSecrets": { names: ["SESSION_SECRET_ROTATED"] },
      }),
    );
    expect(problems).toEqual([
      {
        key,
        value: "[masked]",
        allowed: "a name other than the app secrets' (appSecrets.names: SESSION_SECRET_ROTATED)",
        fix: `pulumi config rm --path '${key}' --stack staging`,
      },
    ]);
  });

  test("an image given with a tag, and a tag too, is refused", () => {
    expect(
      problemsOf(
        raw({ "opsbook:services": [{ ...services[0], image: "registry.example.com/api:1.2.3" }, services[1]] }),
      ),
    ).toEqual([
      {
        key: "opsbook:services[0].image",
        value: "registry.example.com/api:1.2.3",
        allowed:
          "an image repository without a tag (the tag goes in `tag`), e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
        fix: "pulumi config set --path 'opsbook:services[0].image' <value> --stack staging",
      },
    ]);
    // A registry with a port is a repository, not a tag.
    expect(() =>
      parseConfig(
        "staging",
        raw({ "opsbook:services": [{ ...services[0], image: "registry.example.com:5000/api" }, services[1]] }),
      ),
    ).not.toThrow();
  });

  test("an alarm description CloudWatch would cut is refused with the room left", () => {
    const alarm = {
      name: "event-loop-lag",
      description: "x".repeat(1000),
      namespace: "Opsbook/App",
      metricName: "EventLoopLagP99",
      warning: 100,
      critical: 500,
    };
    const [problem] = problemsOf(raw({ "opsbook:customAlarms": [alarm] }));
    expect(problem).toMatchObject({ key: "opsbook:customAlarms[0].description", value: alarm.description });
    const room = Number(/at most (\d+) characters/.exec(problem!.allowed)![1]);
    expect(problem!.allowed).toContain("CloudWatch takes at most 1024");
    expect(() =>
      parseConfig("staging", raw({ "opsbook:customAlarms": [{ ...alarm, description: "x".repeat(room) }] })),
    ).not.toThrow();
    expect(problemsOf(raw({ "opsbook:customAlarms": [{ ...alarm, description: "x".repeat(room + 1) }] }))).toHaveLength(
      1,
    );
  });

  test("more routed services than an ALB has listener rules, and more than it has target groups, are refused", () => {
    const many = (n: number, routed: boolean) => [
      ...Array.from({ length: n }, (_, i) => ({
        name: `svc-${i}`,
        image: "registry.example.com/svc",
        tag: "1.0.0",
        port: 10000 + i,
        ...(routed ? { paths: [`/svc-${i}/*`] } : {}),
      })),
      { ...services[1], name: "web" },
    ];
    const rules = problemsOf(raw({ "opsbook:services": many(101, true), "opsbook:migrations": { service: "web" } }));
    expect(rules).toContainEqual(
      expect.objectContaining({
        key: "opsbook:services",
        allowed: expect.stringContaining('"Rules per Application Load Balancer"') as unknown,
      }) as unknown,
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        key: "opsbook:services",
        value: "102 services with a port",
        allowed: expect.stringContaining('"Target groups per Application Load Balancer"') as unknown,
      }) as unknown,
    );
    expect(() =>
      parseConfig("staging", raw({ "opsbook:services": many(99, true), "opsbook:migrations": { service: "web" } })),
    ).not.toThrow();
  });

  test("a nightly dump inside the database's maintenance window is refused", () => {
    expect(
      problemsOf(
        raw({
          "opsbook:backup": { image: "registry.example.com/backup-job", tag: "1.0.0", dailyAt: "04:30" },
          "opsbook:postgres": { maintenanceWindow: "sun:04:00-sun:05:00" },
        }),
      ),
    ).toEqual([
      {
        key: "opsbook:backup.dailyAt",
        value: "04:30",
        allowed:
          "a time whose hour (local to timeZone UTC) is outside postgres.maintenanceWindow (sun:04:00-sun:05:00 UTC), or the dump meets the database's maintenance",
        fix: "pulumi config set --path 'opsbook:backup.dailyAt' <value> --stack staging",
      },
    ]);
  });

  test.each(["prod--eu", "staging-", "a"])(
    "an environment %j that would make invalid names is refused by name",
    (env) => {
      expect(problemsOf(raw({ "opsbook:environment": env }))).toEqual([
        {
          key: "opsbook:environment",
          value: env,
          allowed:
            "lower-case letters and digits, single '-' between them, starting with a letter, 2 to 16 characters, e.g. staging",
          fix: "pulumi config set 'opsbook:environment' <value> --stack staging",
        },
      ]);
    },
  );

  test.each([
    [
      "a misspelt aws key",
      { "aws:defaultTag": { tags: { a: "b" } } },
      "aws:defaultTag",
      /did you mean "aws:defaultTags"\?/,
    ],
    ["defaultTags without tags", { "aws:defaultTags": { project: "opsbook" } }, "aws:defaultTags", /a map \{ tags:/],
    [
      "a reserved tag key",
      { "aws:defaultTags": { tags: { "aws:owner": "me" } } },
      "aws:defaultTags.tags.aws:owner",
      /not starting with "aws:"/,
    ],
    ["a bad region", { "aws:region": "eu-west" }, "aws:region", /an AWS region, e.g. eu-west-1/],
    [
      "a plain-text access key",
      { "aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" },
      "aws:secretKey",
      /no AWS credentials in the stack file/,
    ],
  ])("the aws: namespace: %s", (_what, overrides, key, allowed) => {
    const error = errorOf(raw(overrides));
    const problem = error.problems.find((p) => p.key === key);
    expect(problem).toBeDefined();
    expect(problem!.allowed).toMatch(allowed);
    expect(problem!.fix).toMatch(/^pulumi config (set|rm) .*--stack staging/);
    expect(error.message).not.toContain("wJalrXUtnFEMI");
  });

  test("the shipped aws: keys pass", () => {
    expect(() =>
      parseConfig("staging", raw({ "aws:defaultTags": { tags: { project: "opsbook" } }, "aws:profile": "ops" })),
    ).not.toThrow();
  });
});
