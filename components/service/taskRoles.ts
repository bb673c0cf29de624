import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../../lib/iam";
import { partitionOfRegion } from "../../lib/partition";
import type { ServiceConnection } from "../../lib/connection";

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/(.+)$/;

/** A role only ECS tasks of this account can assume. */
export function ecsTaskRole(name: string, accountId: pulumi.Input<string>, parent: pulumi.Resource): aws.iam.Role {
  return new aws.iam.Role(
    name,
    {
      assumeRolePolicy: serviceTrustPolicy("ecs-tasks.amazonaws.com", accountId),
    },
    { parent },
  );
}

/** The stack's own ECR repository an image comes from, and the key its layers are encrypted with. */
export interface PullRepository {
  arn: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

/**
 * The execution role that starts a task: pulls its image (scoped to the one ECR repository),
 * writes its log group, and reads exactly the secrets it injects (R-security-least-privilege).
 */
export function executionRole(
  name: string,
  args: {
    /** The image without its tag: a configured repository URL, or the stack repository's URL. */
    image: pulumi.Input<string>;
    /** The stack's repository the image is pulled from; without it, an ECR URL in `image` is scoped to. */
    repository?: PullRepository;
    logGroupArn: pulumi.Input<string>;
    connections: ServiceConnection[];
    region: string;
    accountId: pulumi.Input<string>;
  },
  parent: pulumi.Resource,
): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
  const role = ecsTaskRole(name, args.accountId, parent);
  const ecr = typeof args.image === "string" ? ECR_IMAGE.exec(args.image) : null;
  const repositoryArn = args.repository
    ? args.repository.arn
    : ecr
      ? `arn:${partitionOfRegion(ecr[2]!)}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`
      : undefined;
  const secretArns = args.connections.flatMap((conn) => conn.secretArns);
  const keyArns = args.connections.flatMap((conn) => conn.kmsKeyArns);
  const statements: pulumi.Input<Record<string, unknown>>[] = [
    {
      Sid: "WriteLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: pulumi.interpolate`${args.logGroupArn}:*`,
    },
  ];
  if (repositoryArn !== undefined) {
    // GetAuthorizationToken has no resource to scope to; the pulls are scoped to the one repository.
    statements.push({ Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" });
    statements.push({
      Sid: "PullImage",
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
      Resource: repositoryArn,
    });
  }
  if (args.repository) {
    // The layers are encrypted with the stack's images key; only ECR may use it on the role's behalf.
    statements.push({
      Sid: "DecryptImage",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: args.repository.kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `ecr.${args.region}.amazonaws.com` } },
    });
  }
  if (secretArns.length > 0)
    statements.push({
      Sid: "ReadInjectedSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: secretArns,
    });
  if (keyArns.length > 0) {
    statements.push({
      Sid: "DecryptInjectedSecrets",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: keyArns,
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } },
    });
  }
  const policy = new aws.iam.RolePolicy(
    name,
    { role: role.id, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
    { parent },
  );
  return { role, policy };
}

/** Environment and ECS secrets of a container, from its connections and its own settings. */
export function containerSettings(connections: ServiceConnection[], own: Record<string, pulumi.Input<string>>) {
  return {
    environment: [
      ...connections.flatMap((conn) => Object.entries(conn.environment).map(([name, value]) => ({ name, value }))),
      ...Object.entries(own).map(([name, value]) => ({ name, value })),
    ],
    secrets: connections.flatMap((conn) =>
      Object.entries(conn.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
    ),
  };
}

/**
 * The Fargate task definition of a one-shot job of the backup job's image (the backup, the drill,
 * the role bootstrap, the maintenance tasks): `command` is the image's command and the container's
 * name, the root filesystem is read-only with a writable `/tmp`, and the logs go to `logGroupName`
 * under the command's prefix.
 */
export function jobTaskDefinitionArgs(a: {
  family: string;
  command: string;
  image: pulumi.Input<string>;
  cpu: number;
  memory: number;
  executionRoleArn: pulumi.Input<string>;
  taskRoleArn: pulumi.Input<string>;
  settings: ReturnType<typeof containerSettings>;
  logGroupName: pulumi.Input<string>;
  region: string;
}): aws.ecs.TaskDefinitionArgs {
  return {
    family: a.family,
    cpu: String(a.cpu),
    memory: String(a.memory),
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
    executionRoleArn: a.executionRoleArn,
    taskRoleArn: a.taskRoleArn,
    volumes: [{ name: "tmp" }],
    containerDefinitions: pulumi.jsonStringify([
      {
        name: a.command,
        image: a.image,
        essential: true,
        command: [a.command],
        ...a.settings,
        readonlyRootFilesystem: true,
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": a.logGroupName,
            "awslogs-region": a.region,
            "awslogs-stream-prefix": a.command,
          },
        },
      },
    ]),
  };
}
