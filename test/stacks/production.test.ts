import { ofType, one } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("production");
});

describe("production stack, built from Pulumi.production.yaml", () => {
  stackInvariants(() => plan, true);

  test("spans three zones with a NAT gateway in each", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(9);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.inputs.subnetId)).toEqual([
      "production-public-eu-west-1a-id",
      "production-public-eu-west-1b-id",
      "production-public-eu-west-1c-id",
    ]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "production-vpc").inputs.cidrBlock).toBe("10.10.0.0/16");
  });

  test("keeps flow logs for a year", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "production-flow-logs").inputs.retentionInDays).toBe(365);
  });

  test("runs api and web from their images, sized and scaled as the stack file says", () => {
    const containers = (name: string) => JSON.parse(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", name).inputs.containerDefinitions as string);
    expect(containers("api")[0].image).toBe("123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/api:1.0.0");
    expect(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", "api").inputs).toMatchObject({ cpu: "1024", memory: "2048" });
    expect(one(plan.resources, "aws:ecs/service:Service", "api").inputs).toMatchObject({ desiredCount: 3, alarms: { enable: true, rollback: true, alarmNames: ["opsbook-production-api-rollback-unhealthy-targets", "opsbook-production-api-rollback-error-rate"] } });
    expect(one(plan.resources, "aws:appautoscaling/target:Target", "api").inputs).toMatchObject({ minCapacity: 3, maxCapacity: 10 });
    expect(one(plan.resources, "aws:appautoscaling/target:Target", "web").inputs).toMatchObject({ minCapacity: 2, maxCapacity: 6 });
    expect(containers("api")[0].secrets.map((s: { name: string }) => s.name)).toEqual(["JWT_SECRET", "JWT_REFRESH_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY"]);
  });

  test("routes /api/* to api and everything else to web, health-checked at the runbook values", () => {
    expect(one(plan.resources, "aws:lb/listenerRule:ListenerRule", "api").inputs).toMatchObject({ priority: 100, conditions: [{ pathPattern: { values: ["/api/*"] } }] });
    expect(one(plan.resources, "aws:lb/listenerRule:ListenerRule", "web").inputs).toMatchObject({ priority: 50000, conditions: [{ pathPattern: { values: ["/*"] } }] });
    for (const name of ["api", "web"]) {
      expect(one(plan.resources, "aws:lb/targetGroup:TargetGroup", name).inputs.healthCheck).toMatchObject({ path: "/health", interval: 30, timeout: 10, healthyThreshold: 2, unhealthyThreshold: 3 });
    }
  });

  test("keeps the load balancer from being deleted, with HTTPS only", () => {
    expect(one(plan.resources, "aws:lb/loadBalancer:LoadBalancer", "production").inputs).toMatchObject({ enableDeletionProtection: true, dropInvalidHeaderFields: true });
    expect(one(plan.resources, "aws:lb/listener:Listener", "production-https").inputs).toMatchObject({ certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
  });

  test("exports what a deploy needs: URL, cluster, services, topics and the migration task", () => {
    expect(plan.outputs).toMatchObject({
      url: "https://production.eu-west-1.elb.amazonaws.com",
      clusterName: "opsbook-production",
      serviceNames: { api: "opsbook-production-api", web: "opsbook-production-web" },
      alarmTopicArns: { warning: "arn:aws:sns:eu-west-1:123456789012:production-warning", critical: "arn:aws:sns:eu-west-1:123456789012:production-critical" },
      migration: {
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api-migrate",
        cluster: "opsbook-production",
        securityGroups: ["production-app-id"],
        command:
          "aws ecs run-task --cluster opsbook-production --task-definition arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api-migrate --launch-type FARGATE --network-configuration 'awsvpcConfiguration={subnets=[production-private-eu-west-1a-id,production-private-eu-west-1b-id,production-private-eu-west-1c-id],securityGroups=[production-app-id],assignPublicIp=DISABLED}'",
      },
    });
  });

  test("declares the runbook alarm set: 10 per service, 2 for the load balancer, 2 for the certificate, 2 rollback alarms per service", () => {
    const alarms = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).toHaveLength(2 * 10 + 2 + 2 + 2 * 2);
    const bySeverity = (severity: string) => alarms.filter((a) => (a.inputs.tags as Record<string, string>).severity === severity).length;
    expect([bySeverity("warning"), bySeverity("critical")]).toEqual([2 * 4 + 1 + 1, 2 * 6 + 1 + 1 + 2 * 2]);
    expect(one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-api-http-error-rate-critical").inputs).toMatchObject({ threshold: 5, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"] });
    expect(one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-web-cpu-warning").inputs).toMatchObject({ threshold: 70, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-warning"] });
  });

  test("draws every alarmed signal on one dashboard", () => {
    const body = JSON.parse(one(plan.resources, "aws:cloudwatch/dashboard:Dashboard", "production").inputs.dashboardBody as string);
    expect(body.widgets).toHaveLength(2 * 6 + 1 + 1);
    expect(one(plan.resources, "aws:cloudwatch/dashboard:Dashboard", "production").inputs.dashboardName).toBe("opsbook-production");
  });

  test("exports the network by tier", () => {
    expect(plan.outputs).toMatchObject({
      vpcId: "production-vpc-id",
      publicSubnetIds: ["production-public-eu-west-1a-id", "production-public-eu-west-1b-id", "production-public-eu-west-1c-id"],
      privateSubnetIds: ["production-private-eu-west-1a-id", "production-private-eu-west-1b-id", "production-private-eu-west-1c-id"],
      isolatedSubnetIds: ["production-isolated-eu-west-1a-id", "production-isolated-eu-west-1b-id", "production-isolated-eu-west-1c-id"],
      logsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
      loadBalancerSecurityGroupId: "production-alb-id",
      appSecurityGroupId: "production-app-id",
    });
  });
});
