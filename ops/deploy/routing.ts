/**
 * Which service an HTTPS request reaches through the load balancer, by the listener rules the
 * program declares (host header and path pattern conditions, lowest priority first, the default
 * service last). Pure: the verify step uses it to send each service's health and smoke requests
 * where the load balancer routes them to that service (R-deploy-verify, R-deploy-smoke-tests).
 */
import type { IngressRule, ServiceRouting } from "./facts";

/** An ALB condition value: `*` any characters, `?` one; host names compare without case. */
export function albMatches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

/** The service the listener forwards `host` + `path` to, or undefined (the listener's own default). */
export function routeOf(routes: Record<string, ServiceRouting>, host: string, path: string): string | undefined {
  const pathOnly = path.split("?")[0]!;
  const ordered = Object.entries(routes).sort((a, b) => a[1].priority - b[1].priority);
  for (const [name, r] of ordered) {
    const hostOk = r.hosts.length === 0 || r.hosts.some((h) => albMatches(h, host, true));
    const pathOk = r.paths.length === 0 || r.paths.some((p) => albMatches(p, pathOnly, false));
    if (hostOk && pathOk) return name;
  }
  return undefined;
}

export type Request = { ok: true; url: string } | { ok: false; why: string };

/**
 * The URL that reaches `service` at `path`: on the service's own host name when it routes by
 * host (a name without wildcards, which DNS points at the load balancer), else on the stack's URL.
 */
export function requestTo(
  routes: Record<string, ServiceRouting>,
  service: string,
  path: string,
  stackUrl: string | undefined,
): Request {
  const r = routes[service];
  if (!r) return { ok: false, why: `${service} has no listener rule (no port)` };
  const literal = r.hosts.find((h) => !/[*?]/.test(h));
  if (r.hosts.length > 0 && !literal)
    return { ok: false, why: `${service} routes only wildcard hosts (${r.hosts.join(", ")})` };
  const base = literal ? `https://${literal}` : stackUrl;
  if (!base) return { ok: false, why: "the stack has no url output" };
  const host = new URL(base).hostname;
  const reached = routeOf(routes, host, path);
  if (reached !== service) {
    return {
      ok: false,
      why: `the load balancer sends ${host}${path} to ${reached ?? "its default action"}, not to ${service} (routes: ${[...r.hosts, ...r.paths].join(", ") || "default"})`,
    };
  }
  return { ok: true, url: new URL(path, base).toString() };
}

/**
 * The Service an Ingress sends `host` + `path` to (networking.k8s.io/v1): the rules of the exact
 * host first, else of a matching wildcard host (`*.example.com`, one label), else the rules
 * without a host; among their paths the longest match, `Exact` before `Prefix` of the same length.
 * `Prefix` matches by path element (`/api` matches `/api` and `/api/x`, not `/apix`);
 * `ImplementationSpecific` is taken as `Prefix`.
 */
export function ingressRouteOf(rules: readonly IngressRule[], host: string, path: string): string | undefined {
  const h = host.toLowerCase();
  const exact = rules.filter((r) => r.host?.toLowerCase() === h);
  const wildcard = rules.filter(
    (r) =>
      r.host?.startsWith("*.") &&
      h.endsWith(r.host.slice(1).toLowerCase()) &&
      !h.slice(0, -(r.host.length - 1)).includes("."),
  );
  const chosen = exact.length > 0 ? exact : wildcard.length > 0 ? wildcard : rules.filter((r) => !r.host);
  const p = path.split("?")[0]!;
  let best: { length: number; exact: boolean; service?: string } | undefined;
  for (const r of chosen) {
    for (const x of r.http?.paths ?? []) {
      const want = x.path ?? "/";
      const isExact = x.pathType === "Exact";
      const trimmed = want.replace(/\/+$/, "");
      const ok = isExact ? p === want : trimmed === "" || p === trimmed || p.startsWith(`${trimmed}/`);
      if (!ok) continue;
      const length = isExact ? want.length : trimmed.length;
      if (!best || length > best.length || (length === best.length && isExact && !best.exact))
        best = { length, exact: isExact, ...(x.backend?.service?.name ? { service: x.backend.service.name } : {}) };
    }
  }
  return best?.service;
}

/**
 * The URL that reaches the Kubernetes Service `serviceName` at `path` through the Ingress: on the
 * first host without wildcards whose rules route to it, checked against the Ingress's routing.
 */
export function ingressRequestTo(rules: readonly IngressRule[], serviceName: string, path: string): Request {
  const hosts = rules
    .filter(
      (r) =>
        r.host && !r.host.includes("*") && (r.http?.paths ?? []).some((x) => x.backend?.service?.name === serviceName),
    )
    .map((r) => r.host!);
  const host = hosts[0];
  if (!host) return { ok: false, why: `no Ingress rule with a literal host routes to Service ${serviceName}` };
  const reached = ingressRouteOf(rules, host, path);
  if (reached !== serviceName)
    return {
      ok: false,
      why: `the Ingress sends ${host}${path} to ${reached ? `Service ${reached}` : "no Service"}, not to ${serviceName}`,
    };
  return { ok: true, url: new URL(path, `https://${host}`).toString() };
}
