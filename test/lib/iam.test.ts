import * as pulumi from "@pulumi/pulumi";
import { OIDC_PROVIDER_ARN, webIdentityTrustPolicy } from "../../lib/iam";
import { resolve } from "../helpers/mocks";

describe("webIdentityTrustPolicy", () => {
  const arn = "arn:aws-us-gov:iam::123456789012:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/ABC123";

  test("trusts one service account's tokens with the STS audience, from the provider's issuer", async () => {
    const text = await resolve(webIdentityTrustPolicy(arn, pulumi.output("apps"), "backup"));
    const issuer = "oidc.eks.us-gov-west-1.amazonaws.com/id/ABC123";
    expect(JSON.parse(text)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${issuer}:aud`]: "sts.amazonaws.com",
              [`${issuer}:sub`]: "system:serviceaccount:apps:backup",
            },
          },
        },
      ],
    });
  });

  test.each([
    "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
    "arn:aws:iam::123456789012:role/oidc",
    "arn:aws:iam::1234:oidc-provider/oidc.example.com",
  ])("refuses %s, which is no OIDC provider ARN", (value) => {
    expect(OIDC_PROVIDER_ARN.test(value)).toBe(false);
    expect(() => webIdentityTrustPolicy(value, "apps", "backup")).toThrow(`not an IAM OIDC provider ARN: ${value}`);
  });
});
