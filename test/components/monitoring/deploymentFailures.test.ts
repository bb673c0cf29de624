import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as aws from "@pulumi/aws";
import {
  DeploymentFailurePage,
  deploymentFailedMessage,
  deploymentFailedPattern,
  serviceArnPrefix,
} from "../../../components/monitoring/deploymentFailures";
import { EncryptionKey } from "../../../components/security/encryptionKey";
import { one, policyOf, recordResources, settle } from "../../helpers/mocks";

const CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-staging";

/** The shape of the ECS documentation's deployment state change example, as a failed deployment. */
const FAILED_EVENT = JSON.parse(
  readFileSync(join(__dirname, "../../fixtures/events/ecs-deployment-failed.json"), "utf8"),
) as Record<string, unknown>;

/**
 * EventBridge's matching for the pattern features the rule uses: a field matches when its value
 * (or, for a list such as `resources`, any element) equals one of the pattern's strings or starts
 * with a `{ prefix }`; nested objects match field by field.
 */
function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event[key];
    if (!Array.isArray(want)) {
      return typeof got === "object" && got !== null && matches(want as Record<string, unknown>, got as never);
    }
    const values = Array.isArray(got) ? (got as unknown[]) : [got];
    return values.some((v) =>
      want.some((w) =>
        typeof w === "object" && w !== null && "prefix" in w
          ? typeof v === "string" && v.startsWith(String((w as { prefix: unknown }).prefix))
          : v === w,
      ),
    );
  });
}

/** The message EventBridge would send: each `<name>` replaced with the value at its path. */
function render(template: string, paths: Record<string, string>, event: Record<string, unknown>): string {
  const at = (path: string): unknown =>
    path
      .replace(/^\$\./, "")
      .split(/\.|\[(\d+)\]/)
      .filter((p) => p !== undefined && p !== "")
      .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], event);
  return JSON.parse(
    template.replace(/<([a-z]+)>/g, (whole, name: string) =>
      paths[name] ? JSON.stringify(String(at(paths[name]))).slice(1, -1) : whole,
    ),
  ) as string;
}

describe("the deployment failure pattern", () => {
  test("service ARNs of a cluster share the prefix service/<cluster>/", () => {
    expect(serviceArnPrefix(CLUSTER)).toBe("arn:aws:ecs:eu-west-1:123456789012:service/opsbook-staging/");
    expect(serviceArnPrefix("arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/c")).toBe(
      "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service/c/",
    );
    expect(() => serviceArnPrefix("opsbook-staging")).toThrow("not an ECS cluster ARN: opsbook-staging");
  });

  test("matches a failed deployment of this cluster's services, and nothing else", () => {
    const pattern = deploymentFailedPattern(CLUSTER);
    expect(matches(pattern, FAILED_EVENT)).toBe(true);
    const detail = FAILED_EVENT.detail as Record<string, unknown>;
    const other = (change: Record<string, unknown>) => ({ ...FAILED_EVENT, ...change });
    expect(matches(pattern, other({ detail: { ...detail, eventName: "SERVICE_DEPLOYMENT_COMPLETED" } }))).toBe(false);
    expect(matches(pattern, other({ detail: { ...detail, eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS" } }))).toBe(false);
    expect(
      matches(pattern, other({ resources: ["arn:aws:ecs:eu-west-1:123456789012:service/opsbook-production/api"] })),
    ).toBe(false);
    // "opsbook-staging-k8s" starts with "opsbook-staging": the trailing "/" keeps it out.
    expect(
      matches(pattern, other({ resources: ["arn:aws:ecs:eu-west-1:123456789012:service/opsbook-staging-k8s/api"] })),
    ).toBe(false);
    expect(matches(pattern, other({ "detail-type": "ECS Service Action" }))).toBe(false);
    expect(matches(pattern, other({ source: "custom.ecs" }))).toBe(false);
  });

  test("the page says which service, which deployment, when and why, and what to do", () => {
    const { inputPaths, template } = deploymentFailedMessage("staging");
    expect(render(template, inputPaths, FAILED_EVENT)).toBe(
      "opsbook staging: ECS deployment ecs-svc/1234567890123456789 of " +
        "arn:aws:ecs:eu-west-1:123456789012:service/opsbook-staging/opsbook-staging-api FAILED at 2026-11-24T10:31:14Z " +
        "and ECS is rolling it back. Reason: ECS deployment circuit breaker: tasks failed to start.. " +
        "The service runs the previous task definition while the stack still names the new one: " +
        "revert the tag in the stack file (or run opsbook rollback) before the next deploy (runbook 004).",
    );
    // A reason with quotes still yields a JSON string, as EventBridge escapes values inside quotes.
    const quoted = { ...FAILED_EVENT, detail: { ...(FAILED_EVENT.detail as object), reason: 'image "x" not found' } };
    expect(render(template, inputPaths, quoted)).toContain('Reason: image "x" not found.');
  });
});

describe("DeploymentFailurePage", () => {
  test("targets the topic, which only this rule may publish to as EventBridge, through a key scoped to the rule", async () => {
    const resources = await recordResources();
    const page = new DeploymentFailurePage("staging", { environment: "staging", clusterArn: CLUSTER });
    new EncryptionKey("alerts", {
      description: "alerts",
      accountId: "123456789012",
      services: [page.keyGrant],
      protect: false,
    });
    const topic = new aws.sns.Topic("critical", { kmsMasterKeyId: "alerts-key" });
    page.pageTo(topic, "123456789012");
    await settle();

    const rule = one(resources, "aws:cloudwatch/eventRule:EventRule", "staging-deployment-failed");
    const ruleArn = "arn:aws:cloudwatch:eu-west-1:123456789012:eventrule/staging-deployment-failed";
    expect(rule.inputs.name).toBe("opsbook-staging-ecs-deployment-failed");
    expect(rule.inputs.state).toBe("ENABLED");
    expect(JSON.parse(rule.inputs.eventPattern as string)).toEqual(deploymentFailedPattern(CLUSTER));

    const target = one(resources, "aws:cloudwatch/eventTarget:EventTarget", "staging-deployment-failed");
    expect(target.inputs).toMatchObject({
      rule: "opsbook-staging-ecs-deployment-failed",
      arn: "arn:aws:sns:eu-west-1:123456789012:critical",
      inputTransformer: {
        inputPaths: deploymentFailedMessage("staging").inputPaths,
        inputTemplate: deploymentFailedMessage("staging").template,
      },
    });

    const topicPolicy = one(resources, "aws:sns/topicPolicy:TopicPolicy", "staging-critical-topic");
    expect(topicPolicy.inputs.arn).toBe("arn:aws:sns:eu-west-1:123456789012:critical");
    const [owner, events] = policyOf(topicPolicy).Statement;
    // The default topic policy, kept: the account (and its CloudWatch alarms) still publish.
    expect(owner).toMatchObject({
      Principal: { AWS: "*" },
      Condition: { StringEquals: { "AWS:SourceOwner": "123456789012" } },
    });
    expect(events).toEqual({
      Sid: "DeploymentFailuresPublish",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sns:Publish",
      Resource: "arn:aws:sns:eu-west-1:123456789012:critical",
      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    });

    const keyStatements = policyOf(one(resources, "aws:kms/key:Key", "alerts-key")).Statement;
    expect(keyStatements.find((s) => s.Sid === "ServiceUse0")).toEqual({
      Sid: "ServiceUse0",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    });
  });
});
