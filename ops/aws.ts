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

/**
 * An AWS call that failed, as an error that names the call, the permission it needs, what has
 * changed so far and the fix: access denied, throttled, or anything else AWS answered.
 */
export function awsCallError(
  e: unknown,
  o: {
    /** e.g. `RDS CreateDBSnapshot of opsbook-production` */
    call: string;
    /** e.g. `rds:CreateDBSnapshot and rds:AddTagsToResource` */
    permission: string;
    /** What has changed so far, e.g. `nothing has changed yet`. */
    changed: string;
    /** Where to look when it is neither a denial nor throttling. */
    otherwise?: string;
  },
): OpsError {
  const text = awsMessage(e);
  // Expired or unknown credentials are refused before any permission is looked at: granting one
  // would not help.
  const fix = /ExpiredToken|InvalidClientTokenId|UnrecognizedClient/i.test(text)
    ? "the AWS credentials are expired or not valid: refresh them (aws sso login, or the CI's role) or set AWS_PROFILE to a profile whose credentials are, and run the command again"
    : /AccessDenied|UnauthorizedOperation|not authorized/i.test(text)
      ? `grant ${o.permission} to the credentials the command runs with (README "Permissions the commands need"), or run it with credentials that have it`
      : /Throttl|Rate exceeded|TooManyRequests|RequestLimitExceeded/i.test(text)
        ? "AWS throttled the call: wait a minute and run the command again"
        : `${o.otherwise ?? "check the credentials, the region and the resource"} (the call needs ${o.permission})`;
  return new OpsError(`${o.call} failed: ${text}`, `${fix}; ${o.changed}`);
}

/** Runs one AWS call; its failure becomes {@link awsCallError} (the SDK's promise or a mock's value alike). */
export async function awsCall<T>(send: () => Promise<T>, o: Parameters<typeof awsCallError>[1]): Promise<T> {
  try {
    return await send();
  } catch (e) {
    throw awsCallError(e, o);
  }
}
