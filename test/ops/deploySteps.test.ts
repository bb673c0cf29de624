/** The pure parts of `opsbook deploy`: snapshot names, listener routing, tags, CI metadata, rollback targets. */
import { ciEnvironment, fileTags } from "../../ops/commands/deploy";
import { albMatches, requestTo, routeOf } from "../../ops/deploy/routing";
import { snapshotIdentifier, tagValue } from "../../ops/deploy/steps";
import { migrationsMessage, selectRollback, type Update } from "../../ops/history";

describe("snapshotIdentifier (R-deploy-backup-first)", () => {
  const at = new Date("2026-11-10T11:00:07.123Z");
  test.each<[string, string, string]>([
    ["production", "0123456789abcdef", "opsbook-production-deploy-20261110-110007-0123456789ab"],
    ["Staging_K8s", "ABCDEF", "opsbook-staging-k8s-deploy-20261110-110007-abcdef"],
    ["a--b-", "c0ffee", "opsbook-a-b-deploy-20261110-110007-c0ffee"],
  ])("%s at %s -> %s", (stack, commit, id) => {
    expect(snapshotIdentifier(stack, at, commit)).toBe(id);
  });

  test("obeys RDS's identifier rules for any stack name", () => {
    for (const stack of ["x".repeat(300), "--", "9lives", "prod.eu", "ünïcode"]) {
      const id = snapshotIdentifier(stack, at, "deadbeef");
      expect(id).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
      expect(id).not.toMatch(/--/);
      expect(id.length).toBeLessThanOrEqual(255);
    }
  });

  test("tag values keep only what RDS allows", () => {
    expect(tagValue("api=1.4.2, web=1.3.0 (hotfix)")).toBe("api=1.4.2  web=1.3.0  hotfix ");
  });
});

describe("listener routing (R-deploy-verify)", () => {
  const routes = {
    admin: { paths: [], hosts: ["admin.example.com"], priority: 90, healthCheckPath: "/health" },
    api: { paths: ["/api/*"], hosts: [], priority: 100, healthCheckPath: "/api/health" },
    wild: { paths: [], hosts: ["*.preview.example.com"], priority: 110, healthCheckPath: "/health" },
    web: { paths: [], hosts: [], priority: 50000, healthCheckPath: "/health" },
  };
  test.each<[string, string, string | undefined]>([
    ["app.example.com", "/api/users", "api"],
    ["app.example.com", "/api", "web"],
    ["app.example.com", "/health", "web"],
    ["ADMIN.example.com", "/api/x", "admin"],
    ["pr-1.preview.example.com", "/", "wild"],
  ])("%s%s reaches %s", (host, path, service) => {
    expect(routeOf(routes, host, path)).toBe(service);
  });

  test("wildcards: * any characters, ? one; paths compare with case", () => {
    expect(albMatches("/img/?.png", "/img/a.png", false)).toBe(true);
    expect(albMatches("/API/*", "/api/x", false)).toBe(false);
    expect(albMatches("*.Example.com", "a.example.com", true)).toBe(true);
  });

  test("a host-routed service is requested on its own name; a wildcard-only one cannot be", () => {
    expect(requestTo(routes, "admin", "/health", "https://app.example.com")).toEqual({
      ok: true,
      url: "https://admin.example.com/health",
    });
    expect(requestTo(routes, "api", "/api/health", "https://app.example.com")).toEqual({
      ok: true,
      url: "https://app.example.com/api/health",
    });
    expect(requestTo(routes, "wild", "/health", "https://app.example.com")).toMatchObject({ ok: false });
    expect(requestTo(routes, "api", "/health", "https://app.example.com")).toEqual({
      ok: false,
      why: "the load balancer sends app.example.com/health to web, not to api (routes: /api/*)",
    });
  });
});

describe("what a deploy records", () => {
  test("the stack file's tags from `pulumi config --json`", () => {
    expect(
      fileTags({
        "opsbook:services": { value: '[{"name":"api","tag":"1.4.2","port":8080},{"name":"web","tag":"2"}]' },
      }),
    ).toEqual({ api: "1.4.2", web: "2" });
    expect(fileTags({ "opsbook:services": { objectValue: [{ name: "api", tag: "3" }] } })).toEqual({ api: "3" });
    expect(fileTags({})).toEqual({});
  });

  test("the PULUMI_CI_* variables outside a CI Pulumi knows, none inside one", () => {
    expect(ciEnvironment({ USER: "dana" }, { deployId: "d-1", kind: "hotfix" })).toEqual({
      PULUMI_CI_SYSTEM: "opsbook (dana)",
      PULUMI_CI_BUILD_ID: "d-1",
      PULUMI_CI_BUILD_TYPE: "hotfix",
    });
    expect(ciEnvironment({ CI: "true", GITHUB_ACTIONS: "true" }, { deployId: "d-1", kind: "deploy" })).toEqual({});
  });

  test("no rollback returns to a deploy's migrations-only update", () => {
    const u = (version: number, message: string, result: Update["result"] = "succeeded"): Update => ({
      version,
      kind: "update",
      startTime: new Date("2026-11-10T11:00:00Z"),
      message,
      environment: { "git.head": "abc" },
      config: {},
      result,
    });
    const history = [
      u(9, "opsbook deploy tags api=2 at abc", "failed"),
      u(8, migrationsMessage({ api: "2" }, "abc")),
      u(7, "opsbook deploy tags api=1 at abc"),
    ];
    expect(migrationsMessage({ api: "2" }, "abc")).toBe(
      "opsbook deploy migrations tags api=2 at abc (migrations only)",
    );
    const s = selectRollback(history);
    expect(s.ok && [s.from.version, s.to.version]).toEqual([9, 7]);
    expect(selectRollback(history, 8)).toMatchObject({
      ok: false,
      why: "v8 updated only the migration task of a deploy",
    });
  });
});
