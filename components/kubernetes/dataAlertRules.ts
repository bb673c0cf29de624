/**
 * The data tier's runbook alarms as Prometheus rules, for a data tier on the cluster
 * (R-local-alerts): the CloudWatch catalogue's database and cache families at the same
 * `thresholds` (connections as a share of `max_connections`, memory, disk of the volumes, cache hit
 * ratio, slow queries), over the exporters' series (postgres_exporter, redis_exporter, scraped through their
 * ServiceMonitors), cAdvisor/kube-state-metrics and the kubelet's volume stats. Pure, like
 * alertRules.ts; promtool tests them.
 */
import { SUSTAINED_MINUTES } from "../../lib/thresholds";
import type { Thresholds } from "../monitoring/alarmCatalogue";
import { type AlertFamily, type AlertGroup, familyRules } from "./alertRules";

export interface DataAlertArgs {
  environment: string;
  namespace: string;
  thresholds: Thresholds;
  /** `postgres.slowQueryMs`: a statement slower than this is a slow one (`log_min_duration_statement`). */
  slowQueryMs: number;
  runbookUrl: string;
}

/** Minutes every data-tier condition holds before it fires: the catalogue's sustained window. */
const FOR_MINUTES = { warning: SUSTAINED_MINUTES, critical: SUSTAINED_MINUTES };

/** `namespace` and one label of a store's series. */
const of = (a: DataAlertArgs, label: string, value: string) => `namespace="${a.namespace}",${label}="${value}"`;

/** Used bytes of a StatefulSet's `data` volume as a share of its capacity (kubelet volume stats). */
function disk(a: DataAlertArgs, store: string): AlertFamily {
  const pvc = `namespace="${a.namespace}",persistentvolumeclaim=~"data-${store}-[0-9]+"`;
  return {
    family: "disk",
    what: `used space of ${store}'s data volume`,
    unit: "%",
    thresholds: a.thresholds.diskPercent,
    forMinutes: FOR_MINUTES,
    value: `100 * max(kubelet_volume_stats_used_bytes{${pvc}} / kubelet_volume_stats_capacity_bytes{${pvc}})`,
    anchor: "alerts",
    action: `Raise opsbook:data.${store === "minio" ? "objectStore" : store}.storageGb (the StorageClass must allow expansion) or remove old data.`,
  };
}

/** A container's working set as a share of its memory limit (cAdvisor over kube-state-metrics). */
function containerMemory(a: DataAlertArgs, container: string): AlertFamily {
  const c = of(a, "container", container);
  return {
    family: "memory",
    what: `memory of the ${container} container, as a share of its limit`,
    unit: "%",
    thresholds: a.thresholds.memoryPercent,
    forMinutes: FOR_MINUTES,
    value: `100 * max(container_memory_working_set_bytes{${c}}) / max(kube_pod_container_resource_limits{${c},resource="memory"})`,
    anchor: "alerts",
    action: `Raise opsbook:data.${container}.memory; near the limit the kernel kills the server.`,
  };
}

/**
 * Slow statements per minute (R-alert-slow-queries), at the CloudWatch alarm's
 * `slowQueriesPerMinute` thresholds. CloudWatch counts each statement the server logs for running
 * longer than `log_min_duration_statement`; postgres_exporter has no such count, so this counts,
 * from `pg_stat_statements` (the exporter's `stat_statements` collector), the calls of every
 * statement whose mean time over the last 5 minutes exceeds `slowQueryMs`. It differs where one
 * statement's calls vary: a rare slow call of a usually fast statement is not counted, and the
 * fast calls of a usually slow one are. The exporter reports the 100 statements with the most
 * total time, so a slow statement outside them is not counted either. The counts of the server's
 * every database are summed, as the CloudWatch alarm counts the instance's.
 */
function slowQueries(a: DataAlertArgs): AlertFamily {
  const pg = of(a, "service", "postgres");
  const calls = `rate(pg_stat_statements_calls_total{${pg}}[5m])`;
  // Calls and time carry the same labels (user, datname, queryid): `and` keeps the calls of the
  // slow ones. A statement not called in the window is 0 / 0 and compares false.
  const slow = `rate(pg_stat_statements_seconds_total{${pg}}[5m]) / ${calls} > ${a.slowQueryMs / 1000}`;
  return {
    family: "slow-queries",
    what: `calls per minute of statements whose mean time over 5 min exceeds ${a.slowQueryMs} ms (postgres.slowQueryMs)`,
    unit: "per minute",
    thresholds: a.thresholds.slowQueriesPerMinute,
    forMinutes: FOR_MINUTES,
    value: `60 * sum(${calls} and (${slow}))`,
    anchor: "alerts",
    action:
      "Find the statements in pg_stat_statements (ORDER BY mean_exec_time DESC) or the server log (log_min_duration_statement); add the missing index or fix the query.",
  };
}

/** The families of each store. */
export function dataAlertFamilies(a: DataAlertArgs): Record<"postgres" | "redis" | "minio", AlertFamily[]> {
  const t = a.thresholds;
  const pg = of(a, "service", "postgres");
  const redis = of(a, "service", "redis");
  const rate = (counter: string) => `sum(rate(${counter}{${redis}}[5m]))`;
  return {
    postgres: [
      {
        family: "db-connections",
        what: "connections to PostgreSQL as a share of its max_connections",
        unit: "%",
        thresholds: t.dbConnectionsPercent,
        forMinutes: FOR_MINUTES,
        value: `100 * sum(pg_stat_database_numbackends{${pg}}) / max(pg_settings_max_connections{${pg}})`,
        anchor: "alerts",
        action: "Look for a connection leak or too many pods times DB_POOL_MAX; raise postgres.maxConnections.",
      },
      containerMemory(a, "postgres"),
      disk(a, "postgres"),
      slowQueries(a),
    ],
    redis: [
      {
        family: "cache-hit-rate",
        what: "cache hits as a share of lookups",
        unit: "%",
        thresholds: t.cacheHitRatePercent,
        forMinutes: FOR_MINUTES,
        // No lookups is 0 / 0, which compares false: an idle cache is not a cold one.
        value: `100 * ${rate("redis_keyspace_hits_total")} / (${rate("redis_keyspace_hits_total")} + ${rate("redis_keyspace_misses_total")})`,
        anchor: "alerts",
        action: "Check the keys' TTLs and evictions (redis-cli INFO stats); raise opsbook:data.redis.memory.",
      },
      {
        family: "memory",
        what: "memory Redis uses as a share of its maxmemory",
        unit: "%",
        thresholds: t.memoryPercent,
        forMinutes: FOR_MINUTES,
        value: `100 * max(redis_memory_used_bytes{${redis}}) / max(redis_memory_max_bytes{${redis}})`,
        anchor: "alerts",
        action: "At maxmemory Redis evicts keys with a TTL; raise opsbook:data.redis.memory.",
      },
      disk(a, "redis"),
    ],
    minio: [disk(a, "minio")],
  };
}

/** One group per store: every family at both severities, labelled with the store as `service`. */
export function dataAlertGroups(a: DataAlertArgs): AlertGroup[] {
  return Object.entries(dataAlertFamilies(a)).map(([store, families]) => ({
    name: `opsbook-${a.environment}-${store}`,
    rules: families.flatMap((f) => familyRules(f, { service: store, environment: a.environment }, a.runbookUrl)),
  }));
}
