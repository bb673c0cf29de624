/**
 * The AWS SDK v3 clients the deploy steps call, made for the stack's region. The region comes from
 * the stack's own outputs (an ARN it publishes), so the command needs no second copy of the config;
 * credentials come from the SDK's default chain (environment, profile, SSO, the CI's OIDC role).
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { RDSClient } from "@aws-sdk/client-rds";
import { SNSClient } from "@aws-sdk/client-sns";
import { OpsError } from "./errors";

export interface AwsClients {
  ecs: ECSClient;
  rds: RDSClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
}

export function awsClients(region: string): AwsClients {
  return {
    ecs: new ECSClient({ region }),
    rds: new RDSClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    sns: new SNSClient({ region }),
  };
}

/** `arn:aws:sns:eu-west-1:123456789012:x` -> `eu-west-1` */
export function regionOf(arn: string, what: string): string {
  const region = arn.split(":")[3];
  if (!arn.startsWith("arn:") || !region) {
    throw new OpsError(`${what} is not an ARN with a region: ${arn}`, "run a plain `pulumi up` so the outputs exist");
  }
  return region;
}

/** An AWS error as one line: its name and message (the SDK's `name` is the service's error code). */
export function awsMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
