/**
 * Memory of the common RDS instance classes, and the `max_connections` RDS for PostgreSQL derives
 * from it when the parameter group does not set one: LEAST({DBInstanceClassMemory/9531392}, 5000).
 *
 * The table holds the nominal memory of each class (the figure on the AWS instance class page).
 * RDS's `DBInstanceClassMemory` is somewhat less: it excludes what the operating system and the RDS
 * processes on the host keep for themselves. The connection count computed here is therefore an
 * upper bound of the real default, off by the most for the smallest classes; an alarm at 80 % of it
 * fires a little later than one at 80 % of the exact value would. Setting `postgres.maxConnections`
 * makes both numbers exact.
 */

const GIB = 2 ** 30;

/** RDS's divisor in the default `max_connections` formula for PostgreSQL. */
export const BYTES_PER_DEFAULT_CONNECTION = 9531392;
/** RDS's ceiling in the same formula. */
export const DEFAULT_CONNECTIONS_CEILING = 5000;

// Sizes by "large units": a large is 1, an xlarge 2, a 2xlarge 4, ... a 32xlarge 64.
const UNITS: Record<string, number> = {
  large: 1,
  xlarge: 2,
  "2xlarge": 4,
  "4xlarge": 8,
  "8xlarge": 16,
  "12xlarge": 24,
  "16xlarge": 32,
  "24xlarge": 48,
  "32xlarge": 64,
};

function sized(gibPerLarge: number, sizes: readonly string[]): Record<string, number> {
  return Object.fromEntries(sizes.map((s) => [s, gibPerLarge * UNITS[s]!]));
}

const BURSTABLE = { micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };
const GRAVITON = ["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"] as const;
const INTEL_TO_24 = [...GRAVITON, "24xlarge"] as const;
const INTEL_TO_32 = [...INTEL_TO_24, "32xlarge"] as const;

/** Nominal memory in GiB by family and size; general purpose has 8 GiB per "large", memory optimised 16. */
const MEMORY_GIB: Record<string, Record<string, number>> = {
  t3: BURSTABLE,
  t4g: BURSTABLE,
  m5: sized(8, INTEL_TO_24),
  m6g: sized(8, GRAVITON),
  m6i: sized(8, INTEL_TO_32),
  m7g: sized(8, GRAVITON),
  r5: sized(16, INTEL_TO_24),
  r6g: sized(16, GRAVITON),
  r6i: sized(16, INTEL_TO_32),
  r7g: sized(16, GRAVITON),
};

/** The families the table covers, e.g. "db.t4g.*", for error messages. */
export const KNOWN_FAMILIES: readonly string[] = Object.keys(MEMORY_GIB).map((f) => `db.${f}.*`);

/** Nominal memory of an RDS instance class in bytes, or undefined when the table does not know it. */
export function instanceClassMemoryBytes(instanceClass: string): number | undefined {
  const m = /^db\.([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceClass);
  if (!m) return undefined;
  const [family, size] = [m[1]!, m[2]!];
  // hasOwn: "db.t3.constructor" must not find Object's prototype.
  const sizes = Object.hasOwn(MEMORY_GIB, family) ? MEMORY_GIB[family]! : {};
  return Object.hasOwn(sizes, size) ? sizes[size]! * GIB : undefined;
}

/** RDS for PostgreSQL's default `max_connections` for `memoryBytes` of instance memory. */
export function defaultMaxConnectionsForMemory(memoryBytes: number): number {
  return Math.min(Math.floor(memoryBytes / BYTES_PER_DEFAULT_CONNECTION), DEFAULT_CONNECTIONS_CEILING);
}

/** Why a class's default `max_connections` cannot be computed, naming the key that fixes it. */
export function unknownClassMessage(instanceClass: string): string {
  return `instance class ${instanceClass} is not in lib/instanceClasses.ts (known: ${KNOWN_FAMILIES.join(", ")}), so its default max_connections is unknown: set postgres.maxConnections`;
}
