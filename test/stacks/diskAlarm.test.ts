/**
 * R-alert-disk over the whole production plan: the free-storage alarms warn at 80 % and page at
 * 95 % of the storage the instance has, at its initial allocation and after storage autoscaling
 * grew it to the ceiling. The second plan stands for the stack after a refresh: the instance's
 * state reports the allocation RDS reads back (here `maxAllocatedStorage`), as the provider does.
 */
import { runInNewContext } from "node:vm";
import type * as placeholders from "../../tools/plan/placeholders";
import { ofType, type RecordedResource } from "../helpers/mocks";
import { planStack, type Plan } from "../helpers/stack";

const GIB = 1024 ** 3;
let mockGrown = false;

jest.mock("../../tools/plan/placeholders", () => {
  const actual = jest.requireActual<typeof placeholders>("../../tools/plan/placeholders");
  return {
    ...actual,
    mockState: (...args: Parameters<typeof actual.mockState>) => {
      const answer = actual.mockState(...args);
      const [, type, , , inputs] = args;
      if (mockGrown && type === "aws:rds/instance:Instance")
        answer.state = { ...answer.state, allocatedStorage: inputs.maxAllocatedStorage };
      return answer;
    },
  };
});

/** The disk alarm of `severity`, and the storage the instance was declared with. */
function diskAlarm(plan: Plan, severity: "warning" | "critical"): RecordedResource {
  const alarms = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
    (a) => a.name === `production-database-disk-${severity}`,
  );
  expect(alarms).toHaveLength(1);
  return alarms[0]!;
}

/** Whether the alarm's condition holds with `freeGib` left, evaluating its expression as CloudWatch would. */
function breaches(alarm: RecordedResource, freeGib: number): boolean {
  const queries = alarm.inputs.metricQueries as Array<{
    id: string;
    expression?: string;
    metric?: { metricName: string };
  }>;
  expect(queries.find((q) => q.id === "free")!.metric!.metricName).toBe("FreeStorageSpace");
  const expression = queries.find((q) => q.id === "signal")!.expression!;
  const used = runInNewContext(expression, { free: freeGib * GIB }) as number;
  expect(alarm.inputs.comparisonOperator).toBe("GreaterThanThreshold");
  return used > (alarm.inputs.threshold as number);
}

function instance(plan: Plan): { allocatedStorage: number; maxAllocatedStorage: number } {
  const [db] = ofType(plan.resources, "aws:rds/instance:Instance");
  return db!.inputs as { allocatedStorage: number; maxAllocatedStorage: number };
}

/** Expects `alarm` quiet just under `percent` used of `gib`, and breaching just over it. */
function firesAt(alarm: RecordedResource, gib: number, percent: number): void {
  const freeAt = (usedPercent: number) => gib * (1 - usedPercent / 100);
  expect(breaches(alarm, freeAt(percent - 0.5))).toBe(false);
  expect(breaches(alarm, freeAt(percent + 0.5))).toBe(true);
}

describe("the production disk alarms follow the allocation, not the size at creation", () => {
  test("at the initial allocation: warning at 80 % used, critical at 95 %", async () => {
    const plan = await planStack("production");
    const { allocatedStorage } = instance(plan);
    expect(allocatedStorage).toBe(100);
    firesAt(diskAlarm(plan, "warning"), allocatedStorage, 80);
    firesAt(diskAlarm(plan, "critical"), allocatedStorage, 95);
  });

  test("at the autoscaling ceiling: still 80 % and 95 % of what the instance has", async () => {
    jest.resetModules();
    mockGrown = true;
    // A fresh module registry: the Pulumi runtime holds one program per registry.
    const { buildPlan: build } = jest.requireActual<typeof import("../../tools/plan/plan")>("../../tools/plan/plan");
    const plan = await build("production");
    const { maxAllocatedStorage } = instance(plan);
    expect(maxAllocatedStorage).toBe(500);
    firesAt(diskAlarm(plan, "warning"), maxAllocatedStorage, 80);
    firesAt(diskAlarm(plan, "critical"), maxAllocatedStorage, 95);
    // 90 GiB free of 500 is 82 % used: a warning. Divided by the 100 GiB at creation it read 10 %.
    expect(breaches(diskAlarm(plan, "warning"), 90)).toBe(true);
  });
});
