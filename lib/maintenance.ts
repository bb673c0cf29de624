/**
 * Maintenance mode on the load balancer (R-ops-maintenance-mode), as pure data: the listener rules
 * that still forward the allowed source CIDRs to their services, the catch-all 503, and the page.
 *
 * What an ALB can and cannot do shapes this:
 * - a listener rule's conditions cannot be negated, so "everyone except the allowed CIDRs gets the
 *   page" is the allowed CIDRs' forward rules (a `source-ip` condition plus the service's own host
 *   and path conditions) at lower priority numbers than one catch-all 503 rule, which sits below
 *   every service rule;
 * - a rule takes at most 5 condition values in all (hosts, paths and source IPs together), so the
 *   CIDRs are split over as many rules as needed;
 * - a fixed response sets only the status code, the content type and a body of at most 1024
 *   characters: no `Retry-After` or other header. The page says when to retry and refreshes itself
 *   after `retryAfterSeconds` (`<meta http-equiv="refresh">`), which browsers follow; API clients
 *   get the 503 alone.
 */

/** Condition values an ALB listener rule holds in all. */
export const RULE_CONDITION_VALUES = 5;
/** The catch-all 503's priority: below the allow rules (1 to 98), above every service rule (100 and up). */
export const MAINTENANCE_PRIORITY = 99;
/** The first service rule's priority: right after the maintenance page (R-ops-maintenance-mode). */
export const FIRST_SERVICE_PRIORITY = MAINTENANCE_PRIORITY + 1;
/** Priorities the allow rules may take. */
export const MAX_ALLOW_RULES = MAINTENANCE_PRIORITY - 1;
/** Listener rules an ALB takes, besides the default action. */
export const MAX_LISTENER_RULES = 100;
/** A fixed response's body limit. */
export const MAX_BODY_CHARACTERS = 1024;

/** A service's route as its listener rule claims it; neither hosts nor paths: the default service. */
export interface ServiceRoute {
  name: string;
  hosts: string[];
  paths: string[];
}

/** One allow rule: forward requests from `sourceIps` for these hosts and paths to `service`. */
export interface AllowRule {
  service: string;
  priority: number;
  hosts: string[];
  paths: string[];
  sourceIps: string[];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The allow rules for `allow`, in priority order from 1: every service with a host or path first
 * (so an allowed request for `/api/*` reaches the api), the default service (source IPs only) last.
 * A route too big to share a rule with a source IP is split into one rule per host and path.
 */
export function allowRules(routes: ServiceRoute[], allow: string[]): AllowRule[] {
  if (allow.length === 0) return [];
  const routed = [
    ...routes.filter((r) => r.hosts.length + r.paths.length > 0),
    ...routes.filter((r) => r.hosts.length + r.paths.length === 0),
  ];
  const rules: Omit<AllowRule, "priority">[] = [];
  for (const route of routed) {
    const groups =
      route.hosts.length + route.paths.length < RULE_CONDITION_VALUES
        ? [{ hosts: route.hosts, paths: route.paths }]
        : (route.hosts.length > 0 ? route.hosts.map((h) => [h]) : [[]]).flatMap((hosts) =>
            (route.paths.length > 0 ? route.paths.map((p) => [p]) : [[]]).map((paths) => ({ hosts, paths })),
          );
    for (const group of groups) {
      const room = RULE_CONDITION_VALUES - group.hosts.length - group.paths.length;
      for (const sourceIps of chunks(allow, room)) rules.push({ service: route.name, ...group, sourceIps });
    }
  }
  return rules.map((r, i) => ({ ...r, priority: i + 1 }));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** "10 minutes", "1 hour", "90 seconds": how long to wait, for the page's text. */
export function describeSeconds(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

/** The maintenance page: HTML that says what is happening and when to retry, and reloads itself then. */
export function maintenancePage(message: string, retryAfterSeconds: number): string {
  const text = escapeHtml(message);
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="refresh" content="${retryAfterSeconds}">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Down for maintenance</title></head>` +
    `<body style="font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em">` +
    `<h1>Down for maintenance</h1><p>${text}</p>` +
    `<p>Please try again in ${describeSeconds(retryAfterSeconds)}; this page reloads by itself.</p>` +
    `</body></html>`
  );
}
