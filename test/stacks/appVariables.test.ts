/**
 * The apps' conventions (R-app-variables) and the database roles' rotation (R-db-roles) on both
 * platforms: a stack file that renames variables and sets CORS origins gives the ECS task and the
 * Kubernetes Deployment the same variables, and a new role rotation label redeploys the services
 * without touching the database.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parse, stringify } from "yaml";
import { providedVariables } from "../../lib/appVariables";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT, type Plan } from "../../tools/plan/plan";
import { containersOf, one, ofType } from "../helpers/mocks";

type StackFile = { config: Record<string, unknown> };
type ServiceEntry = Record<string, unknown> & { name: string; uses?: string[] };

const root = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-app-variables-"));

const ENV_NAMES = {
  JWT_REFRESH_SECRET: "REFRESH_TOKEN_SECRET",
  REDIS_AUTH_TOKEN: "REDIS_PASSWORD",
  DATABASE_URL: "POSTGRES_URL",
};
const CORS = ["https://app.example.com", "https://admin.example.com"];

/**
 * Plans a variant of a shipped stack, under the same stack name (names derived from it stay the
 * same), from a directory of its own.
 */
async function variant(
  stack: string,
  variantName: string,
  edit: (config: Record<string, unknown>) => void,
): Promise<Plan> {
  const dir = path.join(root, variantName);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const file = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as StackFile;
  edit(file.config);
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(file));
  const load = () => stackOutputs(buildPlatform(loadConfig()));
  return buildPlan(stack, { root: dir, load });
}

const renamedApi = (config: Record<string, unknown>) => {
  const services = config["opsbook:services"] as ServiceEntry[];
  const api = services.find((s) => s.name === "api")!;
  Object.assign(api, { envNames: ENV_NAMES, corsOrigins: CORS });
};

let ecs: Plan;
let k8s: Plan;
let base: Plan;
let rotated: Plan;
/** What the program warned while planning the renamed production stack (Pulumi's log.warn goes to the console). */
const ecsWarnings: string[] = [];

beforeAll(async () => {
  // One at a time: the runtime's mocks are global.
  const warn = jest.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    ecsWarnings.push(args.map(String).join(" "));
  });
  try {
    ecs = await variant("production", "renamed", renamedApi);
  } finally {
    warn.mockRestore();
  }
  k8s = await variant("staging-k8s", "renamed-k8s", renamedApi);
  base = await variant("production", "base", () => undefined);
  rotated = await variant("production", "rotated", (config) => {
    config["opsbook:postgres"] = {
      ...(config["opsbook:postgres"] as object),
      roleRotation: { app: 1, migrate: 1, backup: 1 },
    };
  });
}, 240_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const ecsVariables = (plan: Plan, task: string) => {
  const [c] = containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", task));
  return Object.fromEntries([
    ...c!.environment.map((e) => [e.name, e.value] as const),
    ...c!.secrets.map((s) => [s.name, s.valueFrom] as const),
  ]);
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}
const deploymentEnv = (plan: Plan, name: string): EnvVar[] => {
  const spec = one(plan.resources, "kubernetes:apps/v1:Deployment", name).inputs.spec as {
    template: { spec: { containers: Array<{ env: EnvVar[] }> } };
  };
  return spec.template.spec.containers[0]!.env;
};

describe("the apps' variable names (R-app-variables)", () => {
  const api = ["database", "cache", "JWT_SECRET", "JWT_REFRESH_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY"];
  const expected = providedVariables(api, CORS)
    .map((n) => ENV_NAMES[n as keyof typeof ENV_NAMES] ?? n)
    .sort();

  test("ECS: the api task gets every provided variable, renamed, and CORS_ORIGINS from the config", () => {
    const vars = ecsVariables(ecs, "api");
    expect(Object.keys(vars).sort()).toEqual(expected);
    expect(vars).toMatchObject({
      CORS_ORIGINS: "https://app.example.com,https://admin.example.com",
      REFRESH_TOKEN_SECRET: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-jwt-refresh-secret",
      REDIS_PASSWORD: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-redis-auth-token",
      REDIS_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-redis-url",
      POSTGRES_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-db-role-app-a:url::",
    });
  });

  test("with two origins the load balancer sends no CORS header: the app echoes the caller's origin (R-security-headers)", () => {
    const listener = one(ecs.resources, "aws:lb/listener:Listener", "production-https").inputs;
    expect(Object.keys(listener).filter((k) => k.startsWith("routingHttpResponseAccessControl"))).toEqual([]);
    expect(listener.routingHttpResponseXFrameOptionsHeaderValue).toBe("DENY");
    // And `pulumi up` says so, once, naming the key and what the app must do.
    expect(ecsWarnings).toEqual([
      "warning: [runtime] loadBalancer.securityHeaders.cors: the services accept 2 origins (https://admin.example.com, https://app.example.com), and a load balancer sends one fixed Access-Control-Allow-Origin: the app must answer each caller with its own origin (CORS_ORIGINS) and the CORS headers itself",
    ]);
  });

  test("the migration task reads the migration role's URL under the app's name", () => {
    expect(ecsVariables(ecs, "api-migrate")).toMatchObject({
      POSTGRES_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-db-role-migrate-a:url::",
    });
    expect(Object.keys(ecsVariables(ecs, "api-migrate"))).not.toContain("DATABASE_URL");
  });

  test("Kubernetes: the api Deployment gets the same names, credentials only from its Secret", () => {
    const env = deploymentEnv(k8s, "api");
    expect(env.map((e) => e.name).sort()).toEqual(expected);
    expect(env.find((e) => e.name === "CORS_ORIGINS")?.value).toBe(CORS.join(","));
    for (const name of ["REFRESH_TOKEN_SECRET", "REDIS_PASSWORD", "REDIS_URL", "POSTGRES_URL", "DB_PASSWORD"]) {
      expect(env.find((e) => e.name === name)).toEqual({
        name,
        valueFrom: { secretKeyRef: { name: "api-env", key: name } },
      });
    }
  });

  test("web gets neither database nor cache variables on either platform", () => {
    const names = [Object.keys(ecsVariables(ecs, "web")), deploymentEnv(k8s, "web").map((e) => e.name)];
    expect(names).toEqual([
      ["APP_ROTATION_LABEL", "SESSION_SECRET"],
      ["APP_ROTATION_LABEL", "SESSION_SECRET"],
    ]);
  });
});

describe("rotating the database roles' passwords (R-db-roles)", () => {
  const changed = (a: Plan, b: Plan) => {
    // Key order is not meaningful (inputs resolve asynchronously): compare values. Two resources
    // may share a type and name (under different parents): compare them in declaration order.
    const key = (r: Plan["resources"][number]) => `${r.type} ${r.name}`;
    const before = new Map<string, unknown[]>();
    for (const r of a.resources) before.set(key(r), [...(before.get(key(r)) ?? []), r.inputs]);
    return b.resources
      .filter((r) => !isDeepStrictEqual(before.get(key(r))?.shift(), r.inputs))
      .map(key)
      .sort();
  };

  test("a rotation renews the inactive login roles' passwords and moves every task using a role to them, nothing else (R-db-role-rotation)", () => {
    expect(changed(base, rotated)).toEqual(
      [
        // The tasks read the other login role's secret now, so their task definitions change and they redeploy.
        "aws:ecs/taskDefinition:TaskDefinition api",
        "aws:ecs/taskDefinition:TaskDefinition api-migrate",
        "aws:ecs/taskDefinition:TaskDefinition production-backup",
        "aws:ecs/taskDefinition:TaskDefinition production-restore-drill",
        // Their execution roles read that secret instead.
        "aws:iam/rolePolicy:RolePolicy api-execution",
        "aws:iam/rolePolicy:RolePolicy api-migrate-execution",
        "aws:iam/rolePolicy:RolePolicy production-execution",
        // Only login b's passwords are new: login a keeps its own until the next rotation. Their
        // secrets' versions change with them (the values are secrets, so the plan shows no diff).
        ...["app", "backup", "migrate"].map(
          (p) => `random:index/randomPassword:RandomPassword production-db-role-${p}-b`,
        ),
      ].sort(),
    );
    const keepers = (plan: Plan, name: string) =>
      one(plan.resources, "random:index/randomPassword:RandomPassword", name).inputs.keepers;
    expect([keepers(base, "production-db-role-app-a"), keepers(rotated, "production-db-role-app-a")]).toEqual([
      { generation: "0" },
      { generation: "0" },
    ]);
    expect([keepers(base, "production-db-role-app-b"), keepers(rotated, "production-db-role-app-b")]).toEqual([
      { generation: "-1" },
      { generation: "1" },
    ]);
    // The secrets' versions take the renewed passwords: they depend on them.
    const version = one(
      rotated.resources,
      "aws:secretsmanager/secretVersion:SecretVersion",
      "production-db-role-app-b",
    );
    expect(version.dependencies).toContain(
      one(rotated.resources, "random:index/randomPassword:RandomPassword", "production-db-role-app-b").urn,
    );
    // Nothing stateful is replaced: the secrets, the database and its instance are the same.
    for (const type of ["aws:rds/instance:Instance", "aws:secretsmanager/secret:Secret"])
      expect(ofType(rotated.resources, type)).toEqual(ofType(base.resources, type));
  });
});
