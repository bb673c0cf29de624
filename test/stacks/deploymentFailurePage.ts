/**
 * The deployment failure page on an ECS stack (R-rollback-page): asserted by each ECS stack's test file.
 */
import { ofType, one, policyOf } from "../helpers/mocks";
import type { Plan } from "../helpers/stack";
import { deploymentFailedPattern } from "../../components/monitoring/deploymentFailures";

const ACCOUNT = "123456789012";

export function deploymentFailurePage(getPlan: () => Plan, environment: string, region = "eu-west-1"): void {
  test("pages the critical topic when ECS fails a deployment of this cluster's services", () => {
    const plan = getPlan();
    const cluster = one(plan.resources, "aws:ecs/cluster:Cluster", environment);
    const clusterArn = `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${cluster.name}`;
    const [rule, ...others] = ofType(plan.resources, "aws:cloudwatch/eventRule:EventRule");
    expect(others).toEqual([]);
    expect(rule?.name).toBe(`${environment}-deployment-failed`);
    expect(JSON.parse(rule?.inputs.eventPattern as string)).toEqual(deploymentFailedPattern(clusterArn));
    const ruleArn = `arn:aws:cloudwatch:${region}:${ACCOUNT}:eventrule/${rule?.name}`;

    const critical = `arn:aws:sns:${region}:${ACCOUNT}:${environment}-critical`;
    const target = one(plan.resources, "aws:cloudwatch/eventTarget:EventTarget", `${environment}-deployment-failed`);
    expect(target.inputs).toMatchObject({ rule: `opsbook-${environment}-ecs-deployment-failed`, arn: critical });
    expect(target.inputs.inputTransformer).toMatchObject({ inputPaths: { service: "$.resources[0]" } });

    const topicPolicy = one(plan.resources, "aws:sns/topicPolicy:TopicPolicy", `${environment}-critical-topic`);
    expect(topicPolicy.inputs.arn).toBe(critical);
    expect(policyOf(topicPolicy).Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      }),
    );
    // The warning topic keeps the default policy: nothing but the account publishes to it.
    expect(ofType(plan.resources, "aws:sns/topicPolicy:TopicPolicy")).toHaveLength(1);

    const keyPolicy = policyOf(one(plan.resources, "aws:kms/key:Key", "alerts-key")).Statement;
    expect(keyPolicy).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
      }),
    );
  });
}
