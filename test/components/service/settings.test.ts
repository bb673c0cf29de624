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
      },
    ]);
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ["an illegal Fargate size", { cpu: 256, memory: 4096 }, ["[0].memory: with cpu 256: 512, 1024, 2048 MiB"]],
    ["min above max", { minCount: 9, maxCount: 8, desiredCount: 8 }, ["[0].minCount: at most maxCount (8)"]],
    ["desired outside the range", { desiredCount: 1 }, ["[0].desiredCount: between minCount (2) and maxCount (6)"]],
  ])("rejects %s", (_, overrides, problems) => {
    expect(settingsProblems(servicesSettings, [{ ...api, ...overrides }])).toEqual(problems);
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ["short secrets", { length: 16 }, ["length: a whole number from 32 to 128"]],
    ["duplicate names", { names: ["A", "B", "A"] }, ["names[2]: a name the list does not already have"]],
  ])("app secrets: rejects %s", (_, input, problems) => {
    expect(settingsProblems(appSecretsSettings, input)).toEqual(problems);
  });
});
