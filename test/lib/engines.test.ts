import { cacheEngineProblem, postgresFamily, postgresMajor } from "../../lib/engines";

describe("PostgreSQL versions", () => {
  test.each([
    ["16", "postgres16"],
    ["16.4", "postgres16"],
    ["17.2", "postgres17"],
  ])("%s belongs to the %s parameter group family", (version, family) => {
    expect(postgresFamily(version)).toBe(family);
  });

  test.each(["15.7", "16.4.1", "latest", ""])("rejects %j", (version) => {
    expect(() => postgresFamily(version)).toThrow(
      `PostgreSQL engine version must be 16 or later, as "16" or "16.4"; got "${version}"`,
    );
  });

  test("reads the major version", () => {
    expect(postgresMajor("16.4")).toBe(16);
    expect(postgresMajor("v16")).toBeUndefined();
  });
});

describe("cacheEngineProblem", () => {
  test.each<["redis" | "valkey", string]>([
    ["redis", "7.0"],
    ["redis", "7.1"],
    ["valkey", "7.2"],
    ["valkey", "8.0"],
    ["valkey", "8.1"],
  ])("%s %s is accepted", (engine, version) => {
    expect(cacheEngineProblem(engine, version)).toBeUndefined();
  });

  test.each<["redis" | "valkey", string, string]>([
    [
      "redis",
      "7.2",
      "7.0 or 7.1 for engine redis; ElastiCache's later versions are Valkey's: set redis.engine to valkey",
    ],
    [
      "redis",
      "8.0",
      "7.0 or 7.1 for engine redis; ElastiCache's later versions are Valkey's: set redis.engine to valkey",
    ],
    ["redis", "6.2", "7.0 or 7.1 for engine redis (the runbooks need Redis 7 or later)"],
    ["valkey", "7.1", "7.2 or later for engine valkey; for Redis OSS 7.0 or 7.1 set redis.engine to redis"],
    ["redis", "7", "a major.minor version, e.g. 7.1"],
    ["valkey", "8", "a major.minor version, e.g. 8.0"],
  ])("%s %s is refused: expected %s", (engine, version, problem) => {
    expect(cacheEngineProblem(engine, version)).toBe(problem);
  });
});
