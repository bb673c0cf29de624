import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type Severity = "warning" | "critical";
export const SEVERITIES: readonly Severity[] = ["warning", "critical"];

export interface AlertTopicsArgs {
  /** KMS key the topics are encrypted with; CloudWatch must be allowed to use it. */
  kmsKeyArn: pulumi.Input<string>;
  /** E-mail addresses subscribed to both topics (each confirms by mail). */
  emails: string[];
  /** HTTPS endpoints (a paging service) subscribed to the critical topic only. */
  httpsEndpoints: string[];
}

/**
 * The two SNS topics every alarm sends to, one per severity, encrypted with KMS: warnings reach
 * the team by e-mail, critical alarms also page.
 */
export class AlertTopics extends pulumi.ComponentResource {
  readonly topics: Record<Severity, aws.sns.Topic>;

  constructor(name: string, args: AlertTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:monitoring:AlertTopics", name, {}, opts);
    const topic = (severity: Severity) => {
      const t = new aws.sns.Topic(
        `${name}-${severity}`,
        {
          namePrefix: `opsbook-${name}-${severity}-`,
          displayName: `opsbook ${name} ${severity}`,
          kmsMasterKeyId: args.kmsKeyArn,
        },
        { parent: this },
      );
      args.emails.forEach(
        (email, i) =>
          new aws.sns.TopicSubscription(
            `${name}-${severity}-email-${i}`,
            { topic: t.arn, protocol: "email", endpoint: email },
            { parent: this },
          ),
      );
      return t;
    };
    this.topics = { warning: topic("warning"), critical: topic("critical") };
    args.httpsEndpoints.forEach(
      (url, i) =>
        new aws.sns.TopicSubscription(
          `${name}-critical-https-${i}`,
          { topic: this.topics.critical.arn, protocol: "https", endpoint: url, endpointAutoConfirms: true },
          { parent: this },
        ),
    );
    this.registerOutputs({ warningTopicArn: this.topics.warning.arn, criticalTopicArn: this.topics.critical.arn });
  }
}
