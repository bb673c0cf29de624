import { appSecretsSettings, servicesSettings } from "../../../components/service/settings";
import { settingsProblems } from "../../helpers/settings";

const api = { name: "api", image: "registry.example.com/api", tag: "1.0.0", port: 8080 };

describe("service settings", () => {
  test("a service gets the runbook's sizes and counts: 512 CPU units, 1024 MiB, 2 tasks scaling 2 to 6 at 60 % CPU", () => {
    expect(servicesSettings.parse([api])).toEqual([
      {
        ...api,
        paths: [],
        hosts: [],
        cpu: 512,
        memory: 1024,
        desiredCount: 2,
        minCount: 2,
        maxCount: 6,
        scaling: { cpuTargetPercent: 60, requestsPerTarget: 1000 },
        environment: {},
        uses: [],
        envNames: {},
        corsOrigins: [],
      },
    ]);
  });

  test("without an image, a service runs from its repository in the stack; a tag is required and never latest", () => {
    const { image: _image, ...withoutImage } = api;
    expect(servicesSettings.parse([withoutImage])[0]).not.toHaveProperty("image");
    expect(settingsProblems(servicesSettings, [{ ...withoutImage, tag: "latest" }])).toEqual([
      '[0].tag: an image tag other than "latest", e.g. a version or a commit',
    ]);
    expect(settingsProblems(servicesSettings, [{ name: "api", port: 8080 }])).toEqual([
      "[0].tag: an image tag: letters, digits, '_', '.', '-', at most 128 characters",
    ]);
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ["an illegal Fargate size", { cpu: 256, memory: 4096 }, ["[0].memory: with cpu 256: 512, 1024, 2048 MiB"]],
    ["min above max", { minCount: 9, maxCount: 8, desiredCount: 8 }, ["[0].minCount: at most maxCount (8)"]],
    ["desired outside the range", { desiredCount: 1 }, ["[0].desiredCount: between minCount (2) and maxCount (6)"]],
  ])("rejects %s", (_, overrides, problems) => {
    expect(settingsProblems(servicesSettings, [{ ...api, ...overrides }])).toEqual(problems);
  });

  describe("uses, envNames and corsOrigins (R-db-roles, R-app-variables)", () => {
    const full = {
      ...api,
      uses: ["database", "cache", "JWT_REFRESH_SECRET"],
      corsOrigins: ["https://app.example.com"],
    };

    test("accepts renames of what the service receives, into the runbook apps' names", () => {
      const [parsed] = servicesSettings.parse([
        {
          ...full,
          envNames: {
            JWT_REFRESH_SECRET: "REFRESH_TOKEN_SECRET",
            REDIS_AUTH_TOKEN: "REDIS_PASSWORD",
            DB_HOST: "PGHOST",
          },
          // A platform name renamed away is the app's own again (a credential-like name stays refused).
          environment: { LOG_LEVEL: "info", DB_HOST: "a name the app uses for something else" },
        },
      ]);
      expect(parsed).toMatchObject({
        uses: ["database", "cache", "JWT_REFRESH_SECRET"],
        envNames: { JWT_REFRESH_SECRET: "REFRESH_TOKEN_SECRET", REDIS_AUTH_TOKEN: "REDIS_PASSWORD" },
        corsOrigins: ["https://app.example.com"],
      });
    });

    test("swapping two names is no collision", () => {
      expect(
        settingsProblems(servicesSettings, [{ ...full, envNames: { DB_USER: "DB_NAME", DB_NAME: "DB_USER" } }]),
      ).toEqual([]);
    });

    test.each<[string, Record<string, unknown>, string[]]>([
      [
        "an unknown entry in uses",
        { uses: ["db"] },
        ["[0].uses[0]: database, cache, or the name of an app secret (one of appSecrets.names)"],
      ],
      ["a use listed twice", { uses: ["cache", "cache"] }, ["[0].uses[1]: each entry once"]],
      [
        "a rename of a variable the service does not receive",
        { uses: ["cache"], envNames: { DATABASE_URL: "DB_URL" } },
        [
          '[0].envNames.DATABASE_URL: a rename of a variable this service receives (REDIS_HOST, REDIS_PORT, REDIS_TLS, REDIS_AUTH_TOKEN, REDIS_URL); "DATABASE_URL" is not one (see services[].uses)',
        ],
      ],
      [
        "a rename when the service receives nothing",
        { envNames: { DB_HOST: "HOST" } },
        ["[0].envNames.DB_HOST: no renames: this service receives no variables (its uses and corsOrigins are empty)"],
      ],
      [
        "a new name another platform variable has",
        { ...full, envNames: { DB_USER: "DB_NAME" } },
        [
          '[0].envNames.DB_USER: a name no other variable of the service has ("DB_NAME" is already a variable the platform provides)',
        ],
      ],
      [
        "two variables renamed to one name",
        { ...full, envNames: { REDIS_AUTH_TOKEN: "SECRET", JWT_REFRESH_SECRET: "SECRET" } },
        [
          '[0].envNames.JWT_REFRESH_SECRET: a name no other variable of the service has ("SECRET" is already REDIS_AUTH_TOKEN\'s new name)',
        ],
      ],
      [
        "an environment entry that would shadow a platform variable or a new name",
        {
          ...full,
          envNames: { REDIS_AUTH_TOKEN: "REDIS_PASSWORD" },
          environment: { DB_SSLMODE: "disable", REDIS_PASSWORD: "x" },
        },
        [
          "[0].environment.DB_SSLMODE: a variable the platform does not set: DB_SSLMODE is provided by the platform; remove it here, or rename the platform's with services[].envNames",
          "[0].environment.REDIS_PASSWORD: a variable the platform does not set: REDIS_PASSWORD is the new name of REDIS_AUTH_TOKEN; remove it here, or rename the platform's with services[].envNames",
        ],
      ],
      [
        "an origin with a path",
        { corsOrigins: ["https://app.example.com/login"] },
        ['[0].corsOrigins[0]: an origin such as "https://app.example.com" (no path)'],
      ],
    ])("rejects %s", (_, overrides, problems) => {
      expect(settingsProblems(servicesSettings, [{ ...api, ...overrides }])).toEqual(problems);
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ["short secrets", { length: 16 }, ["length: a whole number from 32 to 128"]],
    ["duplicate names", { names: ["A", "B", "A"] }, ["names[2]: a name the list does not already have"]],
  ])("app secrets: rejects %s", (_, input, problems) => {
    expect(settingsProblems(appSecretsSettings, input)).toEqual(problems);
  });
});
