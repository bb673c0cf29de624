/**
 * The compute part's settings: `opsbook:services`, `healthCheck`, `loadBalancer`, `domain`,
 * `appSecrets`, `migrations` and `rollback`, with their defaults and the rules between them.
 */
import { z } from "zod";
import { describeFargateMemory, FARGATE_CPU_UNITS, fargateMemoryChoices, isFargateSize } from "../../lib/fargate";
import { credentialLike, isCredentialName, MASKED } from "../../lib/credentials";
import {
  bool,
  envName,
  imageRepository,
  imageTag,
  inList,
  int,
  listOf,
  matching,
  num,
  REMOVE,
  report,
  type Report,
  ON_VALID,
} from "../../lib/schema";

/** Service names: ECS service, log group and target group names derive from them. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const HTTP_PATH = /^\/[A-Za-z0-9_\-./]*$/;

/** A load balancer rule holds at most five condition values. */
const RULE_VALUES = 5;

/**
 * Application Load Balancer quotas a deploy would hit (AWS defaults): target groups per load
 * balancer (one per service with a port) and listener rules per load balancer, default rules not
 * counted (one per routed service).
 */
export const ALB_LIMITS = { targetGroups: 100, listenerRules: 100 } as const;

/**
 * Variables the platform sets in every service's container from its connections (Postgres,
 * Redis, app secrets). A service's own `environment` may not set them too: ECS would get the name
 * twice and the app read whichever it reads first (R-config-platform-variables).
 */
export const PLATFORM_VARIABLES = [
  "DB_HOST",
  "DB_PORT",
  "DB_NAME",
  "DB_SSLMODE",
  "DB_POOL_MIN",
  "DB_POOL_MAX",
  "DB_USER",
  "DB_PASSWORD",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_TLS",
  "REDIS_AUTH_TOKEN",
  "APP_ROTATION_LABEL",
] as const;

export const serviceSettings = z.strictObject({
  name: matching(
    SERVICE_NAME,
    "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
  ).describe("service name; the ECS service, log group and target group names derive from it"),
  image: imageRepository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api").describe(
    "image repository without the tag, e.g. an ECR repository URL",
  ),
  tag: imageTag.describe("image tag: what a deploy changes"),
  port: int(1, 65535).optional().describe("container port the load balancer sends traffic to; none for a worker"),
  paths: listOf(
    matching(/^\/[A-Za-z0-9_\-./*?]*$/, 'a path pattern starting with "/", e.g. "/api/*"'),
    "path patterns",
    RULE_VALUES,
  )
    .default([])
    .describe("path patterns routed to this service"),
  hosts: listOf(
    matching(
      /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/,
      "a host name, e.g. admin.example.com or *.example.com",
    ),
    "host names",
    RULE_VALUES,
  )
    .default([])
    .describe("host names routed to this service (with `paths`, both must match); neither makes it the default"),
  healthCheckPath: matching(HTTP_PATH, 'a path starting with "/"')
    .optional()
    .describe("health check path of this service (default `healthCheck.path`)"),
  cpu: inList(FARGATE_CPU_UNITS).default(512).describe("Fargate CPU units (1024 = 1 vCPU)"),
  memory: int(512, 122880, " MiB").default(1024).describe("memory in MiB, a Fargate size for the CPU"),
  desiredCount: int(0, 100).default(2).describe("tasks running after a deploy (R-app-counts)"),
  minCount: int(0, 100).default(2).describe("autoscaling floor"),
  maxCount: int(1, 100).default(6).describe("autoscaling ceiling"),
  command: z
    .array(z.string({ error: "a string" }), { error: "a list of strings" })
    .optional()
    .describe("command override for the container"),
  scaling: z
    .strictObject({
      // Below the CPU warning (70): target tracking holds the average near its target, so a
      // warning at the target itself would flap under normal load (R-alert-cpu).
      cpuTargetPercent: int(10, 95, " %")
        .default(60)
        .describe(
          "average CPU of the tasks above which the service scales out, below thresholds.cpuPercent.warning (R-scale-horizontal)",
        ),
      requestsPerTarget: int(1, 100000).default(1000).describe("requests per task per minute at the load balancer"),
    })
    .prefault({})
    .describe("target tracking"),
  environment: z
    .record(envName, z.string({ error: "a string" }), { error: "a map of NAME: value" })
    .default({})
    .describe(
      "plain environment variables: no credentials (refused by name and by value: those come from Secrets Manager) and none of the platform's own variables",
    ),
});

export type ServiceSettings = z.output<typeof serviceSettings>;

/** Every service: one name, one port and one route each; exactly one default route. */
export const servicesSettings = z
  .array(serviceSettings, { error: "a list of services, each { name, image, tag, port, ... }" })
  .min(1, { error: "at least one service" })
  .superRefine(
    (services, ctx) => checkServices(services, (path, value, allowed, fix) => report(ctx, path, value, allowed, fix)),
    ON_VALID,
  )
  .describe("the app's services");

function checkServices(services: ServiceSettings[], add: Report): void {
  const names = new Set<string>();
  const routes = new Map<string, string>();
  const ports = new Map<number, string>();
  let defaults = 0;
  services.forEach((s, i) => {
    const at = (k: string): PropertyKey[] => [i, k];
    if (names.has(s.name)) add(at("name"), s.name, "a name no other service has");
    names.add(s.name);
    if (!isFargateSize(s.cpu, s.memory)) {
      add(
        at("memory"),
        s.memory,
        `with cpu ${s.cpu}: ${describeFargateMemory(s.cpu)} MiB`,
        fargateMemoryChoices(s.cpu)[0],
      );
    }
    checkEnvironment(s, i, add);
    if (s.minCount > s.maxCount) add(at("minCount"), s.minCount, `at most maxCount (${s.maxCount})`);
    else if (s.desiredCount < s.minCount || s.desiredCount > s.maxCount) {
      add(
        at("desiredCount"),
        s.desiredCount,
        `between minCount (${s.minCount}) and maxCount (${s.maxCount})`,
        s.minCount,
      );
    }
    if (s.port === undefined) {
      if (s.paths.length > 0)
        add(at("paths"), s.paths, "no paths for a service without a port (a worker gets no traffic)");
      if (s.hosts.length > 0)
        add(at("hosts"), s.hosts, "no hosts for a service without a port (a worker gets no traffic)");
      return;
    }
    // The load balancer reaches every service through one app security group: two services on
    // one port would need the same rule twice, which AWS refuses.
    const portOwner = ports.get(s.port);
    if (portOwner) add(at("port"), s.port, `a port no other service uses (${s.port} is ${portOwner}'s)`);
    ports.set(s.port, s.name);
    if (s.paths.length === 0 && s.hosts.length === 0) defaults++;
    if (s.paths.length + s.hosts.length > RULE_VALUES) {
      add(
        at("paths"),
        s.paths,
        `at most ${RULE_VALUES} paths and hosts together (a load balancer rule takes ${RULE_VALUES} values); ${s.hosts.length} hosts given`,
      );
    }
    // A route is a host (or any host) with a path (or any path); two services may not claim one.
    for (const host of s.hosts.length > 0 ? s.hosts : ["*"]) {
      for (const path of s.paths.length > 0 ? s.paths : ["*"]) {
        if (host === "*" && path === "*") continue;
        const route = `${host} ${path}`;
        const other = routes.get(route);
        if (other) {
          add(
            at(s.paths.length > 0 ? "paths" : "hosts"),
            s.paths.length > 0 ? s.paths : s.hosts,
            `routes no other service claims ("${s.hosts.length > 0 ? `${host}` : ""}${path === "*" ? "" : path}" already goes to ${other})`,
          );
        }
        routes.set(route, s.name);
      }
    }
  });
  const served = services.filter((s) => s.port !== undefined);
  const routed = served.filter((s) => s.paths.length > 0 || s.hosts.length > 0);
  if (served.length > ALB_LIMITS.targetGroups) {
    add(
      [],
      `${served.length} services with a port`,
      `at most ${ALB_LIMITS.targetGroups} services with a port: each has a target group, and an Application Load Balancer takes ${ALB_LIMITS.targetGroups} (AWS quota "Target groups per Application Load Balancer")`,
    );
  }
  if (routed.length > ALB_LIMITS.listenerRules) {
    add(
      [],
      `${routed.length} services with paths or hosts`,
      `at most ${ALB_LIMITS.listenerRules} services with paths or hosts: each has a listener rule, and a listener takes ${ALB_LIMITS.listenerRules} besides its default (AWS quota "Rules per Application Load Balancer"); raise the quota first if you need more`,
    );
  }
  if (served.length > 0 && defaults !== 1) {
    add(
      [],
      services.map((s) => s.name),
      `exactly one service with a port and neither paths nor hosts (the load balancer's default); found ${defaults}`,
    );
  }
}

/**
 * A service's plain environment (R-secret-storage): no credential, recognised by the variable's
 * name or by its value, and none of the platform's variables. The value a problem shows is masked:
 * it may be the very credential.
 */
function checkEnvironment(s: ServiceSettings, i: number, add: Report): void {
  for (const [name, value] of Object.entries(s.environment)) {
    const at = [i, "environment", name];
    const secretsHint =
      "keep it in Secrets Manager and inject it as an ECS secret: list the name in appSecrets.names to have it generated";
    if ((PLATFORM_VARIABLES as readonly string[]).includes(name)) {
      add(at, value, `a name the platform does not set itself (${PLATFORM_VARIABLES.join(", ")})`, REMOVE);
    } else if (isCredentialName(name)) {
      add(
        at,
        MASKED,
        `no credential in a plain environment variable (the name says it is one); ${secretsHint}`,
        REMOVE,
      );
    } else {
      const what = credentialLike(value);
      if (what)
        add(
          at,
          MASKED,
          `no credential in a plain environment variable (the value looks like ${what}); ${secretsHint}`,
          REMOVE,
        );
    }
  }
}

/**
 * App secrets are injected into every service under their names: a service's own environment may
 * not set one too. Paths are relative to `opsbook:services`.
 */
export function environmentStackRules(
  services: ServiceSettings[],
  appSecretNames: readonly string[],
  add: Report,
): void {
  services.forEach((s, i) => {
    for (const name of Object.keys(s.environment)) {
      if (appSecretNames.includes(name))
        add(
          [i, "environment", name],
          MASKED,
          `a name other than the app secrets' (appSecrets.names: ${appSecretNames.join(", ")})`,
          REMOVE,
        );
    }
  });
}

/** Target group health checks (R-health-path, R-health-timing, R-health-thresholds). */
export const healthCheckSettings = z
  .strictObject({
    path: matching(HTTP_PATH, 'a path starting with "/"').default("/health").describe("path every service answers"),
    intervalSeconds: int(5, 300, " s").default(30).describe("seconds between checks"),
    timeoutSeconds: int(2, 120, " s").default(10).describe("seconds a check may take; less than the interval"),
    healthyThreshold: int(2, 10).default(2).describe("passes in a row before a target is healthy"),
    unhealthyThreshold: int(2, 10).default(3).describe("failures in a row before a target is unhealthy"),
  })
  .superRefine((hc, ctx) => {
    if (hc.timeoutSeconds >= hc.intervalSeconds) {
      report(
        ctx,
        ["timeoutSeconds"],
        hc.timeoutSeconds,
        `less than healthCheck.intervalSeconds (${hc.intervalSeconds})`,
        10,
      );
    }
  }, ON_VALID)
  .prefault({})
  .describe("the load balancer's health checks");

export type HealthCheckSettings = z.output<typeof healthCheckSettings>;

export const loadBalancerSettings = z
  .strictObject({
    deletionProtection: bool().default(true).describe("AWS refuses to delete the load balancer while this is on"),
    idleTimeoutSeconds: int(1, 4000, " s").default(60).describe("seconds an idle connection stays open"),
    rateLimitPer5Minutes: int(100, 2000000000)
      .default(2000)
      .describe("requests one client IP may make in 5 minutes before the WAF blocks it (R-security-rate-limit)"),
    accessLogRetentionDays: int(1, 3650, " days").default(90).describe("days access logs are kept"),
  })
  .prefault({})
  .describe("the public application load balancer");

export type LoadBalancerSettings = z.output<typeof loadBalancerSettings>;

export const domainSettings = z
  .strictObject(
    {
      name: matching(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, "a DNS name, e.g. app.example.com")
        .optional()
        .describe("DNS name to request a certificate for, validated in `hostedZoneId`"),
      hostedZoneId: matching(/^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ")
        .optional()
        .describe("Route 53 zone of `name`"),
      certificateArn: matching(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        "an ACM certificate ARN",
      )
        .optional()
        .describe("an existing ACM certificate instead"),
    },
    { error: "{ certificateArn } or { name, hostedZoneId }" },
  )
  .superRefine((domain, ctx) => {
    if (!domain.certificateArn && !(domain.name && domain.hostedZoneId)) {
      report(
        ctx,
        [],
        domain,
        "{ certificateArn } of an ACM certificate, or { name, hostedZoneId } to request one validated by DNS",
      );
    }
  }, ON_VALID)
  .describe("TLS for the load balancer (R-tls-certificate): `{ certificateArn }` or `{ name, hostedZoneId }`");

export type DomainSettings = z.output<typeof domainSettings>;

export const appSecretsSettings = z
  .strictObject({
    names: listOf(envName, "names")
      .default(["JWT_SECRET", "JWT_REFRESH_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY"])
      .describe("secrets generated for the app and injected into every service (R-secret-generation)"),
    length: int(32, 128).default(48).describe("characters per secret, at least 32 (R-secret-generation)"),
    rotation: matching(/^[A-Za-z0-9._-]{1,64}$/, 'a label such as "2026-Q4"')
      .default("initial")
      .describe("change it to rotate every generated secret on the next `pulumi up` (R-secret-rotation)"),
  })
  .superRefine((secrets, ctx) => {
    const seen = new Set<string>();
    secrets.names.forEach((name, i) => {
      if (seen.has(name)) report(ctx, ["names", i], name, "a name the list does not already have");
      seen.add(name);
    });
  }, ON_VALID)
  .prefault({})
  .describe("generated app secrets");

export type AppSecretsSettings = z.output<typeof appSecretsSettings>;

export const migrationsSettings = z
  .strictObject({
    service: matching(SERVICE_NAME, "the name of a configured service")
      .default("api")
      .describe("service whose image and settings the migration task uses"),
    command: z
      .array(z.string({ error: "a string" }), { error: "a list of strings" })
      .min(1, { error: "a non-empty list of strings" })
      .default(["npx", "prisma", "migrate", "deploy"])
      .describe("the migration command (R-deploy-migrations)"),
  })
  .prefault({})
  .describe("the one-off task that runs database migrations before services roll");

export type MigrationsSettings = z.output<typeof migrationsSettings>;

/** Rules between `migrations` and `services`. Paths are relative to `opsbook:migrations`. */
export function migrationsStackRules(migrations: MigrationsSettings, services: ServiceSettings[], add: Report): void {
  const names = services.map((s) => s.name);
  if (!names.includes(migrations.service)) {
    add(["service"], migrations.service, `one of the configured services: ${[...new Set(names)].join(", ")}`, names[0]);
  }
}

/** What makes an ECS deployment roll itself back (R-rollback-auto). */
export const rollbackSettings = z
  .strictObject({
    unhealthyForMinutes: int(1, 60, " min").default(2).describe("minutes of failing health checks"),
    errorRatePercent: num(0.1, 100, " %").default(10).describe("5xx share of requests"),
    errorRateForMinutes: int(1, 60, " min").default(1).describe("minutes above `errorRatePercent`"),
  })
  .prefault({})
  .describe("what makes an ECS deployment roll itself back");

export type RollbackSettings = z.output<typeof rollbackSettings>;

/**
 * Autoscaling targets sit below the warning thresholds (R-alert-cpu, R-scale-horizontal): target
 * tracking keeps the average CPU around its target, so a warning at or below the target fires
 * under the load the service is sized for. A warning then means scaling out did not keep up.
 * Paths are relative to `opsbook:services`.
 */
export function scalingStackRules(services: ServiceSettings[], cpuWarningPercent: number, add: Report): void {
  services.forEach((service, index) => {
    if (service.scaling.cpuTargetPercent >= cpuWarningPercent) {
      add(
        [index, "scaling", "cpuTargetPercent"],
        service.scaling.cpuTargetPercent,
        `below thresholds.cpuPercent.warning (${cpuWarningPercent}), or the CPU warning fires while autoscaling holds the target`,
        Math.max(10, cpuWarningPercent - 10),
      );
    }
  });
}
