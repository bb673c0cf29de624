/**
 * Which service an HTTPS request reaches through the load balancer, by the listener rules the
 * program declares (host header and path pattern conditions, lowest priority first, the default
 * service last). Pure: the verify step uses it to send each service's health and smoke requests
 * where the load balancer routes them to that service (R-deploy-verify, R-deploy-smoke-tests).
 */
import type { ServiceRouting } from "./facts";

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
