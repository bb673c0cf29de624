/**
 * The compute part's settings: `opsbook:services`, `healthCheck`, `loadBalancer`, `domain`,
 * `appSecrets`, `migrations`, `rollback` and `maintenance`, with their defaults and the rules between them.
 */
import { z } from "zod";
import { isCidr } from "../../lib/cidr";
import { describeFargateMemory, FARGATE_CPU_UNITS, fargateMemoryChoices, isFargateSize } from "../../lib/fargate";
import { FRAME_OPTIONS, HSTS_ONE_YEAR_SECONDS } from "../../lib/securityHeaders";
import { credentialLike, isCredentialName, MASKED } from "../../lib/credentials";
import {
  allowRules,
  MAINTENANCE_PRIORITY,
  maintenancePage,
  MAX_ALLOW_RULES,
  MAX_BODY_CHARACTERS,
  MAX_LISTENER_RULES,
  RULE_CONDITION_VALUES,
} from "../../lib/maintenance";
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
  oneOf,
  REMOVE,
  report,
  type Report,
  ON_VALID,
} from "../../lib/schema";
import {
  APP_SECRETS_ROTATION_VARIABLE,
  CACHE_VARIABLES,
  DATABASE_VARIABLES,
  providedVariables,
  READ_HOST_VARIABLE,
  USES,
} from "../../lib/appVariables";

/** Service names: ECS service, log group and target group names derive from them. */
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,19}$/;
const HTTP_PATH = /^\/[A-Za-z0-9_\-./]*$/;
/** A browser origin: scheme, host and optional port, no path (what an Origin header carries). */
const ORIGIN = /^https?:\/\/(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?(:\d{1,5})?$/;

/**
 * Application Load Balancer quotas a deploy would hit (AWS defaults): target groups per load
 * balancer (one per service with a port) and listener rules per load balancer, default rules not
 * counted (one per routed service).
 */
const ALB_LIMITS = { targetGroups: 100, listenerRules: MAX_LISTENER_RULES } as const;

/**
 * Variables the platform sets in every service's container from its connections (Postgres,
 * Redis, app secrets). A service's own `environment` may not set them too: ECS would get the name
 * twice and the app read whichever it reads first (R-config-platform-variables).
 */
export const PLATFORM_VARIABLES = [
  ...DATABASE_VARIABLES.environment,
  ...DATABASE_VARIABLES.secrets,
  ...CACHE_VARIABLES.environment,
  ...CACHE_VARIABLES.secrets,
  APP_SECRETS_ROTATION_VARIABLE,
] as const;

export const serviceSettings = z.strictObject({
  name: matching(
    SERVICE_NAME,
    "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
  ).describe("service name; the ECS service, log group and target group names derive from it"),
  image: imageRepository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api")
    .optional()
    .describe(
      "image repository without the tag; default the service's own ECR repository of the stack (stack output `repositoryUrls`)",
    ),
  tag: imageTag.describe("image tag: what a deploy changes"),
  port: int(1, 65535).optional().describe("container port the load balancer sends traffic to; none for a worker"),
  paths: listOf(
    matching(/^\/[A-Za-z0-9_\-./*?]*$/, 'a path pattern starting with "/", e.g. "/api/*"'),
    "path patterns",
    RULE_CONDITION_VALUES,
  )
    .default([])
    .describe("path patterns routed to this service"),
  hosts: listOf(
    matching(
      /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/,
      "a host name, e.g. admin.example.com or *.example.com",
    ),
    "host names",
    RULE_CONDITION_VALUES,
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
  uses: listOf(
    matching(
      /^(database|cache|[A-Z_][A-Z0-9_]*)$/,
      "database, cache, or the name of an app secret (one of appSecrets.names)",
    ),
    "what the service uses",
  )
    .default([])
    .describe(
      "what the service receives, and nothing else: `database` (DB_* and DATABASE_URL of the app role), `cache` (REDIS_* and REDIS_URL), app secret names (R-db-roles)",
    ),
  envNames: z
    .record(envName, envName, { error: "a map of PLATFORM_NAME: APP_NAME" })
    .default({})
    .describe(
      "the app's names for variables the platform provides, e.g. `{ JWT_REFRESH_SECRET: REFRESH_TOKEN_SECRET }` (R-app-variables)",
    ),
  corsOrigins: listOf(matching(ORIGIN, 'an origin such as "https://app.example.com" (no path)'), "origins", 50)
    .default([])
    .describe(
      "origins the app accepts cross-origin requests from, given to it as CORS_ORIGINS, comma-separated (R-app-variables)",
    ),
});

export type ServiceSettings = z.output<typeof serviceSettings>;

/** Every service: one name, one port and one route each; exactly one default route. */
export const servicesSettings = z
  .array(serviceSettings, { error: "a list of services, each { name, tag, port, ... }" })
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
    checkVariables(s, (path, value, allowed, fix) => add([i, ...path], value, allowed, fix));
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
    if (s.paths.length + s.hosts.length > RULE_CONDITION_VALUES) {
      add(
        at("paths"),
        s.paths,
        `at most ${RULE_CONDITION_VALUES} paths and hosts together (a load balancer rule takes ${RULE_CONDITION_VALUES} values); ${s.hosts.length} hosts given`,
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
 * `uses`, `envNames` and `environment` of one service: each use once, renames only of variables
 * the service receives, and no two variables under one name (R-app-variables). Paths are relative
 * to the service.
 */
function checkVariables(s: ServiceSettings, add: Report): void {
  const seen = new Set<string>();
  s.uses.forEach((use, j) => {
    if (seen.has(use)) add(["uses", j], use, "each entry once");
    seen.add(use);
  });
  // DB_READ_HOST counts as provided here; readReplicaStackRules checks the replicas exist.
  const provided = providedVariables(s.uses, s.corsOrigins, true);
  const finalNames = new Map<string, string>();
  for (const name of provided) if (!(name in s.envNames)) finalNames.set(name, name);
  for (const [from, to] of Object.entries(s.envNames)) {
    if (!provided.includes(from)) {
      add(
        ["envNames", from],
        to,
        provided.length > 0
          ? `a rename of a variable this service receives (${provided.join(", ")}); "${from}" is not one (see services[].uses)`
          : `no renames: this service receives no variables (its uses and corsOrigins are empty)`,
      );
      continue;
    }
    const other = finalNames.get(to);
    if (other !== undefined && other !== from) {
      add(
        ["envNames", from],
        to,
        `a name no other variable of the service has ("${to}" is already ${other === to ? "a variable the platform provides" : `${other}'s new name`})`,
      );
    } else finalNames.set(to, from);
  }
  for (const name of Object.keys(s.environment)) {
    const owner = finalNames.get(name);
    if (owner !== undefined) {
      // Masked when it may be a credential: the platform's own DB_PASSWORD, an app secret's name.
      const secretLike = isCredentialName(name) || isCredentialName(owner) || s.uses.includes(owner);
      add(
        ["environment", name],
        secretLike ? MASKED : s.environment[name],
        `a variable the platform does not set: ${name} is ${owner === name ? "provided by the platform" : `the new name of ${owner}`}; remove it here, or rename the platform's with services[].envNames`,
        REMOVE,
      );
    }
  }
}

/**
 * App secret names in `services[].uses` must be generated ones. Paths are relative to
 * `opsbook:services`.
 */
export function usesStackRules(services: ServiceSettings[], appSecretNames: string[], add: Report): void {
  services.forEach((s, i) =>
    s.uses.forEach((use, j) => {
      if (use !== USES.database && use !== USES.cache && !appSecretNames.includes(use)) {
        add(
          [i, "uses", j],
          use,
          `database, cache, or one of appSecrets.names (${appSecretNames.join(", ")}); add "${use}" to appSecrets.names to generate it`,
        );
      }
    }),
  );
}

/**
 * A service's plain environment (R-secret-storage): no credential, recognised by the variable's
 * name or by its value, and none of the platform's variables. The value a problem shows is masked:
 * it may be the very credential.
 */
function checkEnvironment(s: ServiceSettings, i: number, add: Report): void {
  // A name the service receives from the platform (under its own or its new name) is reported once,
  // by checkVariables; a platform name the service renamed away is the app's own again.
  // DB_READ_HOST counts as provided here; readReplicaStackRules checks the replicas exist.
  const provided = providedVariables(s.uses, s.corsOrigins, true);
  const received = new Set(provided.map((n) => s.envNames[n] ?? n));
  const renamedAway = new Set(Object.keys(s.envNames));
  for (const [name, value] of Object.entries(s.environment)) {
    if (received.has(name)) continue;
    const at = [i, "environment", name];
    const secretsHint =
      "keep it in Secrets Manager and inject it as an ECS secret: list the name in appSecrets.names to have it generated";
    // The value is checked first: a problem about the name would print it, and it may be the credential.
    const what = credentialLike(value);
    if (what) {
      add(
        at,
        MASKED,
        `no credential in a plain environment variable (the value looks like ${what}); ${secretsHint}`,
        REMOVE,
      );
    } else if ((PLATFORM_VARIABLES as readonly string[]).includes(name) && !renamedAway.has(name)) {
      add(
        at,
        isCredentialName(name) ? MASKED : value,
        `a name the platform does not set itself (${PLATFORM_VARIABLES.join(", ")})`,
        REMOVE,
      );
    } else if (isCredentialName(name)) {
      add(
        at,
        MASKED,
        `no credential in a plain environment variable (the name says it is one); ${secretsHint}`,
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

/** The ELB API's limit on a listener attribute's value: what a header value may hold. */
export const MAX_HEADER_VALUE = 1024;
/**
 * Access-Control-Allow-Methods values: those the load balancer's attribute documents (GET, HEAD,
 * POST, DELETE, CONNECT, OPTIONS, TRACE, PATCH) without CONNECT and TRACE, which no app offers a browser.
 */
const CORS_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"] as const;
/** Printable ASCII without CR or LF: a header value the load balancer sends as given. */
const headerValue = (allowed: string) =>
  matching(/^[\x20-\x7e]+$/, `${allowed} (printable ASCII, no line breaks)`).max(MAX_HEADER_VALUE, {
    error: `at most ${MAX_HEADER_VALUE} characters (the load balancer's limit for a header value)`,
  });
const headerName = matching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "an HTTP header name, e.g. Content-Type");

/**
 * Response headers the HTTPS listener adds to every response (R-security-headers, R-tls-hsts):
 * browsers enforce them whatever the app sends.
 */
export const securityHeadersSettings = z
  .strictObject({
    hsts: z
      .strictObject({
        maxAgeSeconds: int(0, 63072000, " s")
          .default(HSTS_ONE_YEAR_SECONDS)
          .describe("seconds a browser keeps to HTTPS only after a visit (one year)"),
        includeSubDomains: bool().default(true).describe("HTTPS only for every subdomain too"),
        preload: bool()
          .default(false)
          .describe(
            "ask to be on the browsers' preload lists (hstspreload.org); needs includeSubDomains and maxAgeSeconds of a year or more, and is hard to undo",
          ),
      })
      .superRefine((h, ctx) => {
        if (h.preload && !h.includeSubDomains)
          report(
            ctx,
            ["includeSubDomains"],
            false,
            "true with preload: the preload lists require includeSubDomains",
            true,
          );
        if (h.preload && h.maxAgeSeconds < HSTS_ONE_YEAR_SECONDS)
          report(
            ctx,
            ["maxAgeSeconds"],
            h.maxAgeSeconds,
            `at least ${HSTS_ONE_YEAR_SECONDS} (one year) with preload: the preload lists require it`,
            HSTS_ONE_YEAR_SECONDS,
          );
      }, ON_VALID)
      .prefault({})
      .describe("Strict-Transport-Security (R-tls-hsts)"),
    frameOptions: oneOf(FRAME_OPTIONS)
      .default("DENY")
      .describe("X-Frame-Options: no framing at all, or only by the site itself"),
    contentSecurityPolicy: headerValue("a Content-Security-Policy, directives separated by '; '")
      .default("default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'")
      .describe("Content-Security-Policy: where pages may load scripts, styles, frames and objects from"),
    serverHeader: bool().default(false).describe("send the load balancer's `Server` header (it names the server)"),
    cors: z
      .strictObject({
        allowMethods: listOf(oneOf(CORS_METHODS), "HTTP methods", CORS_METHODS.length)
          .min(1, { error: "at least one HTTP method" })
          .default(["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"])
          .describe("Access-Control-Allow-Methods"),
        allowHeaders: listOf(headerName, "header names", 50)
          .default(["Content-Type", "Authorization"])
          .describe("Access-Control-Allow-Headers: request headers a cross-origin call may send"),
        exposeHeaders: listOf(headerName, "header names", 50)
          .default([])
          .describe("Access-Control-Expose-Headers: response headers the calling page may read"),
        allowCredentials: bool()
          .default(false)
          .describe("Access-Control-Allow-Credentials: cross-origin calls may carry cookies and authentication"),
        maxAgeSeconds: int(0, 86400, " s")
          .default(600)
          .describe("Access-Control-Max-Age: seconds a browser caches a preflight answer"),
      })
      .prefault({})
      .describe(
        "CORS headers, sent only when the services' corsOrigins name exactly one origin (a load balancer sends one Access-Control-Allow-Origin value; with several, the app must echo the caller's)",
      ),
  })
  .prefault({})
  .describe("response headers the HTTPS listener adds (R-security-headers)");

export type SecurityHeadersSettings = z.output<typeof securityHeadersSettings>;

export const loadBalancerSettings = z
  .strictObject({
    deletionProtection: bool().default(true).describe("AWS refuses to delete the load balancer while this is on"),
    idleTimeoutSeconds: int(1, 4000, " s").default(60).describe("seconds an idle connection stays open"),
    rateLimitPer5Minutes: int(100, 2000000000)
      .default(2000)
      .describe("requests one client IP may make in 5 minutes before the WAF blocks it (R-security-rate-limit)"),
    accessLogRetentionDays: int(1, 3650, " days").default(90).describe("days access logs are kept"),
    securityHeaders: securityHeadersSettings,
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

/** Maintenance mode: the HTTPS listener answers 503 with a page, except to the allowed CIDRs (R-ops-maintenance-mode). */
export const maintenanceSettings = z
  .strictObject({
    enabled: bool()
      .default(false)
      .describe("answer every request with the 503 maintenance page, except from `allow`; services keep running"),
    allow: listOf(
      z.string({ error: "an IPv4 CIDR block, e.g. 203.0.113.0/24" }).refine(isCidr, {
        error: "an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32",
      }),
      "IPv4 CIDR blocks",
    )
      .default([])
      .describe("source CIDRs that still reach the services during maintenance (the team, to verify)"),
    message: z
      .string({ error: "a sentence for the maintenance page" })
      .min(1, { error: "a non-empty sentence for the maintenance page" })
      .default("We are carrying out planned maintenance and will be back shortly.")
      .describe("what the maintenance page says (plain text)"),
    retryAfterSeconds: int(30, 86400, " s")
      .default(600)
      .describe(
        "seconds after which the page tells visitors to try again and reloads itself (an ALB cannot send `Retry-After`)",
      ),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.allow.forEach((cidr, i) => {
      if (seen.has(cidr)) report(ctx, ["allow", i], cidr, "a CIDR block the list does not already have");
      seen.add(cidr);
    });
    const body = maintenancePage(m.message, m.retryAfterSeconds).length;
    if (body > MAX_BODY_CHARACTERS) {
      report(
        ctx,
        ["message"],
        m.message,
        `a shorter message: the page would be ${body} characters, a load balancer fixed response takes at most ${MAX_BODY_CHARACTERS}`,
      );
    }
  }, ON_VALID)
  .prefault({})
  .describe("maintenance mode on the load balancer (`opsbook maintenance on|off`)");

export type MaintenanceSettings = z.output<typeof maintenanceSettings>;

/**
 * Rules between `maintenance`, the services and the platform. Paths are relative to
 * `opsbook:maintenance`: the allow rules must fit below the 503 rule's priority and in the
 * listener's rule limit.
 */
export function maintenanceStackRules(
  maintenance: MaintenanceSettings,
  context: { platform: string; services: ServiceSettings[] },
  add: Report,
): void {
  if (context.platform !== "ecs") {
    if (maintenance.enabled)
      add(
        ["enabled"],
        true,
        `false on the ${context.platform} platform: maintenance mode is a rule on the ECS platform's load balancer (the cluster's ingress controller serves here)`,
        false,
      );
    return;
  }
  if (maintenance.allow.length === 0) return;
  const routes = context.services.filter((s) => s.port !== undefined);
  const rules = allowRules(routes, maintenance.allow).length;
  const limit = Math.min(MAX_ALLOW_RULES, MAX_LISTENER_RULES - routes.length - 1);
  if (rules > limit) {
    add(
      ["allow"],
      maintenance.allow,
      `fewer CIDR blocks: these need ${rules} listener rules (a rule takes ${RULE_CONDITION_VALUES} condition values, hosts and paths included), at most ${limit} fit below the maintenance rule's priority ${MAINTENANCE_PRIORITY} with ${routes.length} service rules; merge blocks into wider ones`,
    );
  }
}

/**
 * R-db-read-replicas: DB_READ_HOST exists only with `postgres.readReplicas.count` > 0, so a rename
 * of it needs replicas. Paths are relative to `opsbook:services`.
 */
export function readReplicaStackRules(
  services: ServiceSettings[],
  replicas: number,
  add: Report,
  dataOnCluster = false,
): void {
  if (replicas > 0) return;
  const why = dataOnCluster
    ? "a stack with its data on the cluster (data.platform kubernetes) has no read replicas"
    : "services get it only with postgres.readReplicas.count of 1 or more (pulumi config set --path 'opsbook:postgres.readReplicas.count' 1)";
  services.forEach((s, i) => {
    if (READ_HOST_VARIABLE in s.envNames)
      add(
        [i, "envNames", READ_HOST_VARIABLE],
        s.envNames[READ_HOST_VARIABLE],
        `no rename of ${READ_HOST_VARIABLE}: ${why}`,
        REMOVE,
      );
  });
}
