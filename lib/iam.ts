/** IAM policy documents the components share. Pure: no resources. */
import * as pulumi from "@pulumi/pulumi";

/**
 * The trust policy of a role that one AWS service assumes on this account's behalf, guarded against
 * the confused deputy: only from `accountId`, and only for `sourceArn` (ArnLike) when given.
 */
export function serviceTrustPolicy(
  service: string,
  accountId: pulumi.Input<string>,
  sourceArn?: pulumi.Input<string> | pulumi.Input<string>[],
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

/** `arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>`, the form IAM gives an OIDC provider. */
export const OIDC_PROVIDER_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:oidc-provider\/([a-z0-9.-]+(\/[A-Za-z0-9._-]+)*)$/;

/**
 * The trust policy of a role that one Kubernetes service account assumes through the cluster's
 * OIDC provider (EKS IAM roles for service accounts): only tokens the provider issued for
 * `system:serviceaccount:<namespace>:<serviceAccount>` with the STS audience.
 */
export function webIdentityTrustPolicy(
  oidcProviderArn: string,
  namespace: pulumi.Input<string>,
  serviceAccount: string,
): pulumi.Output<string> {
  const issuer = OIDC_PROVIDER_ARN.exec(oidcProviderArn)?.[2];
  if (issuer === undefined) throw new Error(`not an IAM OIDC provider ARN: ${oidcProviderArn}`);
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: oidcProviderArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:aud`]: "sts.amazonaws.com",
            [`${issuer}:sub`]: pulumi.interpolate`system:serviceaccount:${namespace}:${serviceAccount}`,
          },
        },
      },
    ],
  });
}
