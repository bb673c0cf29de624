import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  BOOTSTRAP_COMMAND,
  DATABASE_ROLES,
  DATABASE_ROLE_PURPOSES,
  ROLE_ROTATION_VARIABLE,
  ROLE_SECRET_KEYS,
  rolePasswordEnv,
  type DatabaseRolePurpose,
} from "../../../lib/databaseRoles";
import { libpqConnection, type ServiceConnection } from "../../../lib/connection";
import { containerSettings, ecsTaskRole, executionRole } from "../../service/taskRoles";
import * as k8s from "@pulumi/kubernetes";
import { connectionSecret } from "../../kubernetes/secrets";
import { jobPodSpec, resources } from "../../kubernetes/manifests";

/** Characters of a role password: letters and digits only, so it needs no escaping in a URL. */
export const ROLE_PASSWORD_LENGTH = 40;

/** The database role bootstrap task, and how to start it. */
export interface BootstrapTask {
  taskDefinitionArn: pulumi.Output<string>;
  /** The `aws ecs run-task` command line, for an operator: once before the services use the roles, and at each rotation. */
  command: pulumi.Output<string>;
}

export interface DatabaseRolesArgs {
  /** The database: its address, name and the master user's connection (DB_* and the RDS master secret). */
  database: {
    identifier: string;
    address: pulumi.Input<string>;
    port: number;
    name: pulumi.Input<string>;
    /** What every role's connection shares: DB_HOST, DB_PORT, DB_NAME, DB_SSLMODE, pool sizes. */
    environment: Record<string, pulumi.Input<string>>;
    /** The master user's connection: only the bootstrap task gets it. */
    master: ServiceConnection;
  };
  /** Key of the role secrets (the database's own key). */
  kmsKeyArn: pulumi.Input<string>;
  /** `postgres.roleRotation`: a new label generates new passwords (R-db-roles). */
  rotation: string;
  /** Image of the backup job (`backup.image`, `backup.tag`): its `bootstrap-roles` command runs the bootstrap. */
  image: { repository: string; tag: string };
  /** The ECS cluster the bootstrap task runs in; none on Kubernetes, where it is a Job ({@link DatabaseRoles.bootstrapOnKubernetes}). */
  cluster?: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  logRetentionDays: number;
  logKmsKeyArn: pulumi.Input<string>;
  /** Pulumi `protect` on the secrets. */
  protect: boolean;
  region: string;
  accountId: pulumi.Input<string>;
}

/**
 * The database roles (R-db-roles): one generated password per role in a Secrets Manager secret of
 * its own (`username`, `password` and the `url` the apps read as DATABASE_URL), and the one-off
 * task that creates the roles: the only task given the master credentials.
 *
 * Rotation is a stack update, never a silent one: a new `postgres.roleRotation` label generates new
 * passwords and changes the services' task definitions (DB_ROLE_ROTATION), so they redeploy with
 * the new values. The bootstrap, backup, drill and migration tasks start afresh each run and read
 * the current values. The bootstrap must run between the secrets' update and the services' roll
 * (README, "Database roles"). Cost: four secrets (about $0.40 each a month) and seconds of Fargate.
 */
export class DatabaseRoles extends pulumi.ComponentResource {
  readonly secretArns: Record<DatabaseRolePurpose, pulumi.Output<string>>;
  readonly bootstrapTaskDefinition?: aws.ecs.TaskDefinition;
  /** The ECS task and its `aws ecs run-task` command; on Kubernetes the Job runs it on every change. */
  readonly bootstrap?: BootstrapTask;
  bootstrapJob?: k8s.batch.v1.Job;
  private readonly args: DatabaseRolesArgs;
  private readonly passwords: Record<DatabaseRolePurpose, random.RandomPassword>;

  constructor(name: string, args: DatabaseRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:DatabaseRoles", name, {}, opts);
    this.args = args;
    const db = args.database;
    this.secretArns = {} as Record<DatabaseRolePurpose, pulumi.Output<string>>;
    this.passwords = {} as Record<DatabaseRolePurpose, random.RandomPassword>;
    for (const purpose of DATABASE_ROLE_PURPOSES) {
      const role = DATABASE_ROLES[purpose];
      const password = new random.RandomPassword(
        `${name}-db-role-${purpose}`,
        { length: ROLE_PASSWORD_LENGTH, special: false, keepers: { rotation: args.rotation } },
        { parent: this },
      );
      const secret = new aws.secretsmanager.Secret(
        `${name}-db-role-${purpose}`,
        {
          namePrefix: `opsbook/${db.identifier}/${purpose}-role-`,
          description: `PostgreSQL role ${role} of ${db.identifier}: username, password and connection URL`,
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: 30,
        },
        { parent: this, protect: args.protect },
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-db-role-${purpose}`,
        {
          secretId: secret.id,
          // Composed here and kept secret: the value never appears in a task definition or an output.
          secretString: pulumi.secret(
            pulumi.jsonStringify({
              [ROLE_SECRET_KEYS.username]: role,
              [ROLE_SECRET_KEYS.password]: password.result,
              [ROLE_SECRET_KEYS.url]: pulumi.interpolate`postgresql://${role}:${password.result}@${db.address}:${db.port}/${db.name}?sslmode=require`,
            }),
          ),
        },
        { parent: this },
      );
      this.secretArns[purpose] = secret.arn;
      this.passwords[purpose] = password;
    }
    if (args.cluster)
      ({ taskDefinition: this.bootstrapTaskDefinition, task: this.bootstrap } = this.onEcs(name, args.cluster));
    this.registerOutputs({
      secretArns: this.secretArns,
      bootstrapTaskDefinitionArn: this.bootstrap?.taskDefinitionArn,
    });
  }

  /** The bootstrap as a Fargate task an operator starts once and after each rotation. */
  private onEcs(name: string, cluster: NonNullable<DatabaseRolesArgs["cluster"]>) {
    const args = this.args;
    const db = args.database;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-db-roles`,
      {
        name: `/opsbook/${name}/db-roles`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.logKmsKeyArn,
      },
      { parent: this },
    );
    const master = libpqConnection(db.master);
    const passwords: ServiceConnection = {
      environment: {},
      secrets: Object.fromEntries(
        DATABASE_ROLE_PURPOSES.map((p) => [
          rolePasswordEnv(p),
          pulumi.interpolate`${this.secretArns[p]}:${ROLE_SECRET_KEYS.password}::`,
        ]),
      ),
      secretArns: DATABASE_ROLE_PURPOSES.map((p) => this.secretArns[p]),
      kmsKeyArns: [args.kmsKeyArn],
    };
    const connections = [master, passwords];
    const execution = executionRole(
      `${name}-db-roles-execution`,
      {
        image: args.image.repository,
        logGroupArn: logGroup.arn,
        connections,
        region: args.region,
        accountId: args.accountId,
      },
      this,
    );
    // The bootstrap calls no AWS API: its task role has no policy.
    const task = ecsTaskRole(`${name}-db-roles-task`, args.accountId, this);
    const { environment, secrets } = containerSettings(connections, {});
    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-db-roles`,
      {
        family: `opsbook-${name}-db-roles`,
        cpu: "256",
        memory: "512",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: execution.role.arn,
        taskRoleArn: task.arn,
        volumes: [{ name: "tmp" }],
        containerDefinitions: pulumi.jsonStringify([
          {
            name: BOOTSTRAP_COMMAND,
            image: `${args.image.repository}:${args.image.tag}`,
            essential: true,
            command: [BOOTSTRAP_COMMAND],
            environment,
            secrets,
            readonlyRootFilesystem: true,
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": logGroup.name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": BOOTSTRAP_COMMAND,
              },
            },
          },
        ]),
      },
      { parent: this, dependsOn: [execution.policy] },
    );
    const subnets = pulumi.output(args.subnetIds).apply((s) => s.join(","));
    const bootstrap: BootstrapTask = {
      taskDefinitionArn: taskDefinition.arn,
      command: pulumi.interpolate`aws ecs run-task --cluster ${cluster.name} --task-definition ${taskDefinition.arn} --launch-type FARGATE --network-configuration 'awsvpcConfiguration={subnets=[${subnets}],securityGroups=[${args.securityGroupId}],assignPublicIp=DISABLED}'`,
    };
    return { taskDefinition, task: bootstrap };
  }

  /**
   * On Kubernetes the bootstrap is a Job in the services' namespace, run by `pulumi up` (which waits
   * for it to complete) whenever the passwords change: the role rotation label is in its pod
   * template, so a new label replaces the Job and runs it again. The master credentials go into a
   * Secret only this Job reads; the role passwords come straight from the generated values. The
   * pods carry the backup job's name label, so its egress policy (DNS, PostgreSQL, HTTPS) applies.
   */
  bootstrapOnKubernetes(k: {
    provider: k8s.Provider;
    namespace: pulumi.Input<string>;
    commonLabels: Record<string, string>;
    requestPercentOfLimits: number;
  }): k8s.batch.v1.Job {
    const name = this.args.database.identifier;
    const labels = {
      ...k.commonLabels,
      "app.kubernetes.io/name": "opsbook-backup",
      "app.kubernetes.io/component": BOOTSTRAP_COMMAND,
    };
    const child = { parent: this, provider: k.provider };
    const metadata = (objectName: string) => ({ name: objectName, namespace: k.namespace, labels });
    const master = libpqConnection(this.args.database.master);
    const { secret: masterSecret, keys: masterKeys } = connectionSecret(
      `${name}-db-roles-master`,
      metadata("opsbook-db-roles-master"),
      [master],
      child,
    );
    const passwordKeys = DATABASE_ROLE_PURPOSES.map(rolePasswordEnv);
    const passwords = new k8s.core.v1.Secret(
      `${name}-db-roles-passwords`,
      {
        metadata: metadata("opsbook-db-roles-passwords"),
        type: "Opaque",
        stringData: Object.fromEntries(
          DATABASE_ROLE_PURPOSES.map((p) => [rolePasswordEnv(p), pulumi.secret(this.passwords[p].result)]),
        ),
      },
      { ...child, additionalSecretOutputs: ["data", "stringData"] },
    );
    this.bootstrapJob = new k8s.batch.v1.Job(
      `${name}-db-roles`,
      {
        metadata: metadata("opsbook-db-roles"),
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 900,
          template: {
            metadata: { labels, annotations: { "opsbook/role-rotation": this.args.rotation } },
            spec: jobPodSpec({
              command: BOOTSTRAP_COMMAND,
              image: `${this.args.image.repository}:${this.args.image.tag}`,
              environment: master.environment,
              secrets: [
                { name: masterSecret.metadata.name, keys: masterKeys },
                { name: passwords.metadata.name, keys: passwordKeys },
              ],
              resources: resources(256, 512, k.requestPercentOfLimits),
            }),
          },
        },
      },
      { ...child, deleteBeforeReplace: true },
    );
    return this.bootstrapJob;
  }

  /**
   * What a task connecting as `purpose` gets: the database's DB_* settings, the role's name,
   * password and DATABASE_URL as ECS secrets, and the rotation label.
   */
  connection(purpose: DatabaseRolePurpose): ServiceConnection {
    const arn = this.secretArns[purpose];
    const key = (k: string) => pulumi.interpolate`${arn}:${k}::`;
    return {
      environment: { ...this.args.database.environment, [ROLE_ROTATION_VARIABLE]: this.args.rotation },
      secrets: {
        DB_USER: key(ROLE_SECRET_KEYS.username),
        DB_PASSWORD: key(ROLE_SECRET_KEYS.password),
        DATABASE_URL: key(ROLE_SECRET_KEYS.url),
      },
      secretArns: [arn],
      kmsKeyArns: [this.args.kmsKeyArn],
    };
  }
}
