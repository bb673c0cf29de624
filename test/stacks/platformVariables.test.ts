/**
 * The names a service may not set in its own `environment` (PLATFORM_VARIABLES) are exactly the
 * names the platform sets: read from the task definitions of the staging plan, minus the
 * services' own variables and the app secrets.
 */
import { PLATFORM_VARIABLES } from "../../components/service/settings";
import { containersOf } from "../helpers/mocks";
import { planStack, stackFileConfig, type Plan } from "../helpers/stack";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("staging");
});

test("PLATFORM_VARIABLES lists every variable and secret the platform injects into services", () => {
  const set = new Set<string>();
  for (const td of plan.resources.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition")) {
    if (!/^(api|web)(-migrate)?$/.test(td.name)) continue;
    for (const c of containersOf(td)) {
      for (const e of c.environment) set.add(e.name);
      for (const s of c.secrets) set.add(s.name);
    }
  }
  const appSecrets = ["JWT_SECRET", "JWT_REFRESH_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY"];
  const own = stackFileConfig("staging").services.flatMap((s) =>
    Object.keys((s as { environment?: Record<string, string> }).environment ?? {}),
  );
  const injected = [...set].filter((n) => !appSecrets.includes(n) && !own.includes(n)).sort();
  expect(injected.length).toBeGreaterThan(5);
  expect(injected).toEqual([...PLATFORM_VARIABLES].sort());
});
