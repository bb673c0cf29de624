/**
 * The stack outputs `opsbook deploy` reads (R-deploy-order, R-deploy-verify, R-deploy-post-watch): they
 * are derived from the resources the plan declares, so the command and the program cannot disagree.
 */
import { idOfOne, ofType, one } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";

// One plan per test file: the mock runtime is per process. staging-k8s is checked in stagingK8s.test.ts.
let plan: Plan;
beforeAll(async () => {
  plan = await planStack("staging");
}, 60_000);

const criticalAlarms = (plan: Plan) =>
  ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
    .filter((a) => (a.inputs.tags as Record<string, string>).severity === "critical")
    .map((a) => a.inputs.name as string);

describe("deploy outputs", () => {
  test("per ECS service: the ECS service, its task definition, and the listener rule that reaches it", () => {
    const api = one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", "api");
    expect(plan.outputs.services).toEqual({
      api: {
        serviceName: "opsbook-staging-api",
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api",
        taskDefinitionFamily: api.inputs.family,
        routing: { paths: ["/api/*"], hosts: [], priority: 100, healthCheckPath: "/health" },
      },
      web: {
        serviceName: "opsbook-staging-web",
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/web",
        taskDefinitionFamily: "opsbook-staging-web",
        // No paths and no hosts: the default rule, evaluated last.
        routing: { paths: [], hosts: [], priority: 50000, healthCheckPath: "/health" },
      },
    });
    const rules = ofType(plan.resources, "aws:lb/listenerRule:ListenerRule");
    expect(rules.map((r) => r.inputs.priority).sort()).toEqual([100, 50000]);
  });

  test("every critical alarm the stack declares, and no warning", () => {
    const names = plan.outputs.criticalAlarmNames as string[];
    expect(names.length).toBeGreaterThan(5);
    expect([...names].sort()).toEqual(criticalAlarms(plan).sort());
  });

  test("the migration task: its URN for `up --target`, its family, run-task network settings and log pointer", () => {
    const task = one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", "api-migrate");
    const logGroup = one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "api");
    expect(plan.outputs.migration).toMatchObject({
      taskDefinitionUrn:
        "urn:pulumi:staging::opsbook::opsbook:service:Service$aws:ecs/taskDefinition:TaskDefinition::api-migrate",
      family: task.inputs.family,
      cluster: "opsbook-staging",
      subnets: [
        idOfOne(plan.resources, "aws:ec2/subnet:Subnet", "staging-private-eu-west-1a"),
        idOfOne(plan.resources, "aws:ec2/subnet:Subnet", "staging-private-eu-west-1b"),
      ],
      securityGroups: [idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", "staging-app")],
      launchType: "FARGATE",
      containerName: "app",
      logGroup: logGroup.inputs.name,
      logStreamPrefix: "task",
    });
    const container = (JSON.parse(task.inputs.containerDefinitions as string) as Array<Record<string, unknown>>)[0]!;
    expect(container.name).toBe("app");
    expect(container.logConfiguration).toMatchObject({ options: { "awslogs-stream-prefix": "task" } });
  });
});
