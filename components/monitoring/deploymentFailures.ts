import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { KeyServiceGrant } from "../security/encryptionKey";

/** EventBridge's service principal: it publishes the rule's matches into the topic. */
export const EVENTS_PRINCIPAL = "events.amazonaws.com";

/** What ECS sends when a deployment fails (the circuit breaker tripped, or a rollback alarm fired). */
export const DEPLOYMENT_FAILED = {
  source: "aws.ecs",
  detailType: "ECS Deployment State Change",
  eventName: "SERVICE_DEPLOYMENT_FAILED",
} as const;

/**
 * The prefix of every service ARN in the cluster: ECS names its services
 * `arn:<partition>:ecs:<region>:<account>:service/<cluster name>/<service name>`, and a deployment
 * event's `resources` holds the service's ARN.
 */
export function serviceArnPrefix(clusterArn: string): string {
  const match = /^(arn:[^:]+:ecs:[^:]+:[^:]+:)cluster\/(.+)$/.exec(clusterArn);
  if (!match) throw new Error(`not an ECS cluster ARN: ${clusterArn}`);
  return `${match[1]}service/${match[2]}/`;
}

/** The event pattern: failed deployments of this cluster's services only, not every cluster in the account. */
export function deploymentFailedPattern(clusterArn: string): Record<string, unknown> {
  return {
    source: [DEPLOYMENT_FAILED.source],
    "detail-type": [DEPLOYMENT_FAILED.detailType],
    resources: [{ prefix: serviceArnPrefix(clusterArn) }],
    detail: { eventName: [DEPLOYMENT_FAILED.eventName] },
  };
}

/**
 * The page's text. The template is a JSON string (EventBridge sends it as the SNS message); each
 * `<name>` is filled from `inputPaths` of the ECS event (`resources`, `detail.deploymentId`,
 * `detail.reason`, `time`).
 */
export function deploymentFailedMessage(environment: string): { inputPaths: Record<string, string>; template: string } {
  return {
    inputPaths: {
      service: "$.resources[0]",
      deployment: "$.detail.deploymentId",
      reason: "$.detail.reason",
      time: "$.time",
    },
    template: JSON.stringify(
      `opsbook ${environment}: ECS deployment <deployment> of <service> FAILED at <time> and ECS is rolling it back. ` +
        `Reason: <reason>. The service runs the previous task definition while the stack still names the new one: ` +
        `revert the tag in the stack file (or run opsbook rollback) before the next deploy (runbook 004).`,
    ),
  };
}

export interface DeploymentFailurePageArgs {
  /** The environment the page names (`opsbook:environment`). */
  environment: string;
  /** The ECS cluster whose service deployments are watched. */
  clusterArn: pulumi.Input<string>;
}

/**
 * Pages when ECS fails a service deployment and rolls it back by itself (R-rollback-page): an
 * EventBridge rule on the cluster's `ECS Deployment State Change` events with `eventName`
 * `SERVICE_DEPLOYMENT_FAILED`, sent to the critical topic with a readable message. A deploy whose
 * rollback nobody watches (`pulumi up` reports success on the old task definition) still pages.
 *
 * Declared in two steps because the topic's KMS key must trust the rule before the topic exists:
 * the constructor declares the rule (its `keyGrant` goes into the key policy), `pageTo` then targets
 * the topic and writes the topic policy that lets only this rule publish.
 */
export class DeploymentFailurePage extends pulumi.ComponentResource {
  readonly rule: aws.cloudwatch.EventRule;
  /** For the topic key's policy: EventBridge may use the key only on this rule's behalf. */
  readonly keyGrant: KeyServiceGrant;
  private readonly resourceName: string;
  private readonly environment: string;

  constructor(name: string, args: DeploymentFailurePageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:monitoring:DeploymentFailurePage", name, {}, opts);
    this.resourceName = name;
    this.environment = args.environment;
    this.rule = new aws.cloudwatch.EventRule(
      `${name}-deployment-failed`,
      {
        name: `opsbook-${args.environment}-ecs-deployment-failed`,
        description: `opsbook ${args.environment}: an ECS service deployment failed and is rolling back (runbook 004)`,
        eventPattern: pulumi.output(args.clusterArn).apply((arn) => JSON.stringify(deploymentFailedPattern(arn))),
        state: "ENABLED",
      },
      { parent: this },
    );
    this.keyGrant = {
      principal: EVENTS_PRINCIPAL,
      actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
      condition: { ArnEquals: { "aws:SourceArn": this.rule.arn } },
    };
    this.registerOutputs({ ruleArn: this.rule.arn });
  }

  /**
   * Sends the rule's matches to `topic`, and replaces the topic's policy with the default one
   * (the owning account manages and publishes, as CloudWatch alarms do) plus EventBridge
   * publishing on this rule's behalf only.
   */
  pageTo(topic: aws.sns.Topic, accountId: pulumi.Input<string>): aws.cloudwatch.EventTarget {
    const policy = new aws.sns.TopicPolicy(
      `${this.resourceName}-critical-topic`,
      {
        arn: topic.arn,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AccountOwnerUsesTopic",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: [
                "SNS:GetTopicAttributes",
                "SNS:SetTopicAttributes",
                "SNS:AddPermission",
                "SNS:RemovePermission",
                "SNS:DeleteTopic",
                "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic",
                "SNS:Publish",
              ],
              Resource: topic.arn,
              Condition: { StringEquals: { "AWS:SourceOwner": accountId } },
            },
            {
              Sid: "DeploymentFailuresPublish",
              Effect: "Allow",
              Principal: { Service: EVENTS_PRINCIPAL },
              Action: "sns:Publish",
              Resource: topic.arn,
              Condition: { ArnEquals: { "aws:SourceArn": this.rule.arn } },
            },
          ],
        }),
      },
      { parent: this },
    );
    const message = deploymentFailedMessage(this.environment);
    return new aws.cloudwatch.EventTarget(
      `${this.resourceName}-deployment-failed`,
      {
        rule: this.rule.name,
        arn: topic.arn,
        inputTransformer: { inputPaths: message.inputPaths, inputTemplate: message.template },
      },
      { parent: this, dependsOn: [policy] },
    );
  }
}
