/** IAM policy documents the components share. Pure: no resources. */
import * as pulumi from "@pulumi/pulumi";

/**
 * The trust policy of a role that one AWS service assumes on this account's behalf, guarded against
 * the confused deputy: only from `accountId`, and only for `sourceArn` (ArnLike) when given.
 */
export function serviceTrustPolicy(
  service: string,
  accountId: pulumi.Input<string>,
  sourceArn?: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": accountId },
          ...(sourceArn === undefined ? {} : { ArnLike: { "aws:SourceArn": sourceArn } }),
        },
      },
    ],
  });
}
