/**
 * Which engine versions the data stores accept, and the RDS parameter group family of a PostgreSQL
 * version. Pure: the stack config and the components both check with these before declaring anything.
 */

/** "16" or "16.4" -> 16; undefined for anything else. */
export function postgresMajor(version: string): number | undefined {
  const m = /^(\d+)(\.\d+)?$/.exec(version);
  return m ? Number(m[1]) : undefined;
}

/** RDS parameter group family of a PostgreSQL version: "16.4" -> "postgres16". Throws below 16. */
export function postgresFamily(version: string): string {
  const major = postgresMajor(version);
  if (major === undefined || major < 16)
    throw new Error(`PostgreSQL engine version must be 16 or later, as "16" or "16.4"; got "${version}"`);
  return `postgres${major}`;
}

export type CacheEngine = "redis" | "valkey";

/**
 * Why ElastiCache would refuse `version` of `engine`, or undefined when it is a version this
 * program supports. Redis OSS 7 on ElastiCache is 7.0 or 7.1; later versions are Valkey's (7.2 on).
 */
export function cacheEngineProblem(engine: CacheEngine, version: string): string | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) return `a major.minor version, e.g. ${engine === "redis" ? "7.1" : "8.0"}`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (engine === "redis") {
    if (major === 7 && minor <= 1) return undefined;
    return major < 7
      ? "7.0 or 7.1 for engine redis (the runbooks need Redis 7 or later)"
      : "7.0 or 7.1 for engine redis; ElastiCache's later versions are Valkey's: set redis.engine to valkey";
  }
  if (major > 7 || (major === 7 && minor >= 2)) return undefined;
  return "7.2 or later for engine valkey; for Redis OSS 7.0 or 7.1 set redis.engine to redis";
}
