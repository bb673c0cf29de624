import * as pulumi from "@pulumi/pulumi";
import { postgresUrl, redisUrl } from "../../lib/connection";
import { resolve } from "../helpers/mocks";

describe("the apps' connection URLs (R-app-variables)", () => {
  test("DATABASE_URL: the login, its password, host, port and database, TLS required", async () => {
    const url = postgresUrl({
      user: "app_b",
      password: pulumi.secret("Xy7pQ2"),
      host: pulumi.output("db.internal"),
      port: 5432,
      database: "app",
    });
    expect(await resolve(url)).toBe("postgresql://app_b:Xy7pQ2@db.internal:5432/app?sslmode=require");
    // The password keeps the URL secret.
    expect(await resolve(pulumi.isSecret(url))).toBe(true);
  });

  test("REDIS_URL: rediss:// with the AUTH token and no user", async () => {
    expect(await resolve(redisUrl({ token: "t0k3n", host: "cache.internal", port: 6379 }))).toBe(
      "rediss://:t0k3n@cache.internal:6379",
    );
  });
});
