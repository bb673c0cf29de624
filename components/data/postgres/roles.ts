import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  BOOTSTRAP_COMMAND,
  DATABASE_ROLES,
  DATABASE_ROLE_PURPOSES,
  ROLE_ROTATION_VARIABLE,
  ROLE_SECRET_KEYS,
  ROLE_SLOTS,
  activeSlot,
  loginRole,
  rolePasswordEnv,
  rotationLabel,
  slotGeneration,
  type DatabaseRolePurpose,
  type RoleSlot,
} from "../../../lib/databaseRoles";
import { libpqConnection, postgresUrl, type ServiceConnection } from "../../../lib/connection";
import {
  containerSettings,
  ecsTaskRole,
  executionRole,
  jobTaskDefinitionArgs,
  type PullRepository,
} from "../../service/taskRoles";
import * as k8s from "@pulumi/kubernetes";
import { connectionSecret } from "../../kubernetes/secrets";
import { resources, rolesBootstrapJobSpec } from "../../kubernetes/manifests";
import { SECRET_RECOVERY_WINDOW_DAYS } from "../../../lib/stateful";

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
  /**
   * `postgres.roleRotation`: each purpose's rotation generation. Its parity picks the login role the
   * tasks use; one more gives the other login role a new password and switches the tasks to it
   * (R-db-role-rotation).
   */
  rotation: Record<DatabaseRolePurpose, number>;
  /** Image of the backup job (`backup.image`, `backup.tag`): its `bootstrap-roles` command runs the bootstrap. */
  image: { repository: pulumi.Input<string>; tag: string; pullFrom?: PullRepository };
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

/** A login role's generated password, its secret and the secret's version. */
interface Login {
  password: random.RandomPassword;
  secret: aws.secretsmanager.Secret;
  version: aws.secretsmanager.SecretVersion;
}

/**
 * The database roles (R-db-roles): per purpose two login roles (R-db-role-rotation), each with a
 * generated password in a Secrets Manager secret of its own (`username`, `password` and the `url`
 * the apps read as DATABASE_URL), and the one-off task that creates the roles: the only task given
 * the master credentials.
 *
 * Rotation is a stack update, never a silent one, and strands no running task: one more
 * `postgres.roleRotation.<purpose>` generates a new password for the login role the tasks do not
 * use, and points the tasks' secrets at it, so their task definitions change and they redeploy.
 * The other login role keeps its password until the next rotation, so tasks still running on it
 * keep opening connections. The bootstrap sets both passwords; run it after the roles' secrets
 * changed and before the services roll (README, "Database roles"). Cost: two secrets per purpose
 * (about $0.40 each a month) and seconds of Fargate.
 */
export class DatabaseRoles extends pulumi.ComponentResource {
  /** The secret each purpose's tasks read now: the active login role's. */
  readonly secretArns: Record<DatabaseRolePurpose, pulumi.Output<string>>;
  readonly bootstrapTaskDefinition?: aws.ecs.TaskDefinition;
  /** The ECS task and its `aws ecs run-task` command; on Kubernetes the Job runs it on every change. */
  readonly bootstrap?: BootstrapTask;
  bootstrapJob?: k8s.batch.v1.Job;
  private readonly args: DatabaseRolesArgs;
  private readonly logins: Record<DatabaseRolePurpose, Record<RoleSlot, Login>>;

  constructor(name: string, args: DatabaseRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:DatabaseRoles", name, {}, opts);
    this.args = args;
    const db = args.database;
    this.logins = {} as Record<DatabaseRolePurpose, Record<RoleSlot, Login>>;
    for (const purpose of DATABASE_ROLE_PURPOSES) {
      const generation = args.rotation[purpose];
      const logins = {} as Record<RoleSlot, Login>;
      for (const slot of ROLE_SLOTS) {
        const role = loginRole(purpose, slot);
        const resourceName = `${name}-db-role-${purpose}-${slot}`;
        // Login a carries on the single role's secret of earlier versions: the same secret, no replacement.
        const child = { parent: this, aliases: slot === "a" ? [{ name: `${name}-db-role-${purpose}` }] : [] };
        const password = new random.RandomPassword(
          resourceName,
          {
            length: ROLE_PASSWORD_LENGTH,
            special: false,
            // Renewed only when this login role becomes the active one again (R-db-role-rotation).
            keepers: { generation: String(slotGeneration(generation, slot)) },
          },
          child,
        );
        const secret = new aws.secretsmanager.Secret(
          resourceName,
          {
            // Login a keeps the earlier versions' prefix: a new prefix would replace the secret.
            namePrefix:
              slot === "a"
                ? `opsbook/${db.identifier}/${purpose}-role-`
                : `opsbook/${db.identifier}/${purpose}-role-${slot}-`,
            description: `PostgreSQL login role ${role} (of ${DATABASE_ROLES[purpose]}) of ${db.identifier}: username, password and connection URL`,
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: SECRET_RECOVERY_WINDOW_DAYS,
          },
          { ...child, protect: args.protect },
        );
        const version = new aws.secretsmanager.SecretVersion(
          resourceName,
          {
            secretId: secret.id,
            // Composed here and kept secret: the value never appears in a task definition or an output.
            secretString: pulumi.secret(
              pulumi.jsonStringify({
                [ROLE_SECRET_KEYS.username]: role,
                [ROLE_SECRET_KEYS.password]: password.result,
                [ROLE_SECRET_KEYS.url]: postgresUrl({
                  user: role,
                  password: password.result,
                  host: db.address,
                  port: db.port,
                  database: db.name,
                }),
              }),
            ),
          },
          child,
        );
        logins[slot] = { password, secret, version };
      }
      this.logins[purpose] = logins;
    }
    this.secretArns = Object.fromEntries(DATABASE_ROLE_PURPOSES.map((p) => [p, this.active(p).secret.arn])) as Record<
      DatabaseRolePurpose,
      pulumi.Output<string>
    >;
    if (args.cluster)
      ({ taskDefinition: this.bootstrapTaskDefinition, task: this.bootstrap } = this.onEcs(name, args.cluster));
    this.registerOutputs({
      secretArns: this.secretArns,
      bootstrapTaskDefinitionArn: this.bootstrap?.taskDefinitionArn,
    });
  }

  /** Both login roles of `purpose` and their secrets: what an RDS Proxy signs in with (R-db-proxy). */
  loginSecrets(
    purpose: DatabaseRolePurpose,
  ): { slot: RoleSlot; role: string; secretArn: pulumi.Output<string>; password: pulumi.Output<string> }[] {
    return ROLE_SLOTS.map((slot) => ({
      slot,
      role: loginRole(purpose, slot),
      secretArn: this.logins[purpose][slot].secret.arn,
      password: this.logins[purpose][slot].password.result,
    }));
  }

  /** The login role the tasks of `purpose` use at its current generation. */
  private active(purpose: DatabaseRolePurpose): Login {
    return this.logins[purpose][activeSlot(this.args.rotation[purpose])];
  }

  /** Every login role, with its purpose and slot. */
  private everyLogin(): Array<{ purpose: DatabaseRolePurpose; slot: RoleSlot; login: Login }> {
    return DATABASE_ROLE_PURPOSES.flatMap((purpose) =>
      ROLE_SLOTS.map((slot) => ({ purpose, slot, login: this.logins[purpose][slot] })),
    );
  }

  /** The bootstrap as a Fargate task an operator starts once and at each rotation. */
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
        this.everyLogin().map(({ purpose, slot, login }) => [
          rolePasswordEnv(purpose, slot),
          pulumi.interpolate`${login.secret.arn}:${ROLE_SECRET_KEYS.password}::`,
        ]),
      ),
      secretArns: this.everyLogin().map(({ login }) => login.secret.arn),
      kmsKeyArns: [args.kmsKeyArn],
    };
    const connections = [master, passwords];
    const execution = executionRole(
      `${name}-db-roles-execution`,
      {
        image: args.image.repository,
        repository: args.image.pullFrom,
        logGroupArn: logGroup.arn,
        connections,
        region: args.region,
        accountId: args.accountId,
      },
      this,
    );
    // The bootstrap calls no AWS API: its task role has no policy.
    const task = ecsTaskRole(`${name}-db-roles-task`, args.accountId, this);
    const taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-db-roles`,
      jobTaskDefinitionArgs({
        family: `opsbook-${name}-db-roles`,
        command: BOOTSTRAP_COMMAND,
        image: pulumi.interpolate`${args.image.repository}:${args.image.tag}`,
        cpu: 256,
        memory: 512,
        executionRoleArn: execution.role.arn,
        taskRoleArn: task.arn,
        settings: containerSettings(connections, {}),
        logGroupName: logGroup.name,
        region: args.region,
      }),
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
   * for it to complete) whenever the passwords change: the rotation generations are in its pod
   * template, so a rotation replaces the Job and runs it again. The master credentials go into a
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
    const passwordKeys = this.everyLogin().map(({ purpose, slot }) => rolePasswordEnv(purpose, slot));
    const passwords = new k8s.core.v1.Secret(
      `${name}-db-roles-passwords`,
      {
        metadata: metadata("opsbook-db-roles-passwords"),
        type: "Opaque",
        stringData: Object.fromEntries(
          this.everyLogin().map(({ purpose, slot, login }) => [
            rolePasswordEnv(purpose, slot),
            pulumi.secret(login.password.result),
          ]),
        ),
      },
      { ...child, additionalSecretOutputs: ["data", "stringData"] },
    );
    this.bootstrapJob = new k8s.batch.v1.Job(
      `${name}-db-roles`,
      {
        metadata: metadata("opsbook-db-roles"),
        spec: rolesBootstrapJobSpec({
          labels,
          rotation: rotationLabel(this.args.rotation),
          backoffLimit: 2, // RDS is up before the Job starts
          pod: {
            command: BOOTSTRAP_COMMAND,
            image: pulumi.interpolate`${this.args.image.repository}:${this.args.image.tag}`,
            environment: master.environment,
            secrets: [
              { name: masterSecret.metadata.name, keys: masterKeys },
              { name: passwords.metadata.name, keys: passwordKeys },
            ],
            resources: resources(256, 512, k.requestPercentOfLimits),
          },
        }),
      },
      { ...child, deleteBeforeReplace: true },
    );
    return this.bootstrapJob;
  }

  /**
   * What a task connecting as `purpose` gets: the database's DB_* settings, the active login role's
   * name, password and DATABASE_URL as ECS secrets, and the rotation generation.
   */
  connection(purpose: DatabaseRolePurpose): ServiceConnection {
    const { secret, version } = this.active(purpose);
    const key = (k: string) => pulumi.interpolate`${secret.arn}:${k}::`;
    return {
      environment: {
        ...this.args.database.environment,
        [ROLE_ROTATION_VARIABLE]: String(this.args.rotation[purpose]),
      },
      secrets: {
        DB_USER: key(ROLE_SECRET_KEYS.username),
        DB_PASSWORD: key(ROLE_SECRET_KEYS.password),
        DATABASE_URL: key(ROLE_SECRET_KEYS.url),
      },
      secretArns: [secret.arn],
      kmsKeyArns: [this.args.kmsKeyArn],
      secretVersions: [version],
    };
  }
}
