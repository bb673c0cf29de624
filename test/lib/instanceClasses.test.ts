import {
  BYTES_PER_DEFAULT_CONNECTION,
  defaultMaxConnectionsForMemory,
  instanceClassMemoryBytes,
  KNOWN_FAMILIES,
  unknownClassMessage,
} from "../../lib/instanceClasses";

const GIB = 2 ** 30;

describe("instanceClassMemoryBytes", () => {
  test.each([
    ["db.t3.micro", 1],
    ["db.t3.2xlarge", 32],
    ["db.t4g.small", 2],
    ["db.t4g.medium", 4],
    ["db.m5.large", 8],
    ["db.m5.24xlarge", 384],
    ["db.m6g.4xlarge", 64],
    ["db.m6i.32xlarge", 512],
    ["db.m7g.16xlarge", 256],
    ["db.r5.xlarge", 32],
    ["db.r5.12xlarge", 384],
    ["db.r6g.large", 16],
    ["db.r6i.32xlarge", 1024],
    ["db.r7g.2xlarge", 64],
  ])("%s has %d GiB", (instanceClass, gib) => {
    expect(instanceClassMemoryBytes(instanceClass)).toBe(gib * GIB);
  });

  test.each([
    "db.x2g.large", // family not in the table
    "db.t4g.4xlarge", // size the burstable family does not have
    "db.m6g.24xlarge", // Graviton general purpose stops at 16xlarge
    "db.r7g.32xlarge",
    "db.t3.constructor", // an Object prototype key, not a size
    "m5.large",
  ])("does not know %s", (instanceClass) => {
    expect(instanceClassMemoryBytes(instanceClass)).toBeUndefined();
  });
});

describe("defaultMaxConnectionsForMemory: LEAST(memory / 9531392, 5000)", () => {
  test.each([
    ["db.t3.micro", 112],
    ["db.t4g.medium", 450],
    ["db.m6g.large", 901],
    ["db.r6g.large", 1802],
    ["db.r6g.xlarge", 3604],
    ["db.r6g.2xlarge", 5000], // 7208 by memory, capped
  ])("%s -> %d", (instanceClass, connections) => {
    expect(defaultMaxConnectionsForMemory(instanceClassMemoryBytes(instanceClass)!)).toBe(connections);
  });

  test("rounds down at the divisor", () => {
    expect(defaultMaxConnectionsForMemory(BYTES_PER_DEFAULT_CONNECTION * 7 - 1)).toBe(6);
    expect(defaultMaxConnectionsForMemory(BYTES_PER_DEFAULT_CONNECTION * 7)).toBe(7);
  });
});

test("an unknown class's message names the key that fixes it and the families known", () => {
  expect(KNOWN_FAMILIES).toEqual([
    "db.t3.*",
    "db.t4g.*",
    "db.m5.*",
    "db.m6g.*",
    "db.m6i.*",
    "db.m7g.*",
    "db.r5.*",
    "db.r6g.*",
    "db.r6i.*",
    "db.r7g.*",
  ]);
  expect(unknownClassMessage("db.x2g.large")).toBe(
    "instance class db.x2g.large is not in lib/instanceClasses.ts (known: db.t3.*, db.t4g.*, db.m5.*, db.m6g.*, db.m6i.*, db.m7g.*, db.r5.*, db.r6g.*, db.r6i.*, db.r7g.*), so its default max_connections is unknown: set postgres.maxConnections",
  );
});
