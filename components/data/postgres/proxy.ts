import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { postgresUrl } from "../../../lib/connection";
import { serviceTrustPolicy } from "../../../lib/iam";
import { ROLE_SECRET_KEYS, type RoleSlot } from "../../../lib/databaseRoles";
import { POSTGRES_PORT } from "./postgres";
import { proxyName, type PostgresSettings } from "./settings";
import { SECRET_RECOVERY_WINDOW_DAYS } from "../../../lib/stateful";

/**
 * The parsed `opsbook:postgres.proxy` settings (./settings.ts), plus what the stack wires in from the
 * database and the roles.
 */
export interface PostgresProxyArgs extends Omit<PostgresSettings["proxy"], "enabled"> {
  /** RDS identifier of the instance the proxy fronts; the proxy is named `<identifier>-proxy`. */
  identifier: string;
  /** The instance, for its identifier output: the target waits for it. */
  instanceIdentifier: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  /** The database's subnets (isolated, no route out of the VPC). */
  subnetIds: pulumi.Input<string>[];
  /** The database's security group: the proxy's only egress, and it admits the proxy on 5432. */
  databaseSecurityGroupId: pulumi.Input<string>;
  /** The app tier's security group: admitted on 5432, and given an egress rule to the proxy. */
  clientSecurityGroupId: pulumi.Input<string>;
  /** On Kubernetes, the cluster nodes' or pods' group, admitted on 5432 (its egress is the cluster's). */
  externalClientSecurityGroupIds?: pulumi.Input<string>[];
  /** The login role secrets the proxy signs in with: both slots of the app purpose (R-db-role-rotation). */
  logins: { slot: RoleSlot; role: string; secretArn: pulumi.Input<string>; password: pulumi.Input<string> }[];
  /** The database the apps' DATABASE_URL names. */
  databaseName: string;
  /** Key of those secrets, and of the proxy URL secrets. */
  kmsKeyArn: pulumi.Input<string>;
  /** `protect`: the URL secrets are kept like the login secrets they mirror. */
  protect: boolean;
  region: string;
  accountId: pulumi.Input<string>;
  partition: pulumi.Input<string>;
}

/**
 * R-db-proxy: an RDS Proxy in front of the instance, so many tasks share a bounded pool of database
 * connections (runbook 003: RDS Proxy for many instances). TLS is required from clients; the proxy
 * signs in to PostgreSQL with the app purpose's login role secrets, both slots, so a rotation
 * (R-db-role-rotation) moves the tasks to the other login role without a proxy change. Its role may
 * read exactly those secrets, and decrypt their key only through Secrets Manager. Its security group
 * admits the clients on 5432 and reaches only the database.
 *
 * Cost: RDS Proxy is billed per vCPU of the instance per hour (about $0.015 in eu-west-1), two
 * vCPUs at least.
 */
export class PostgresProxy extends pulumi.ComponentResource {
  readonly proxy: aws.rds.Proxy;
  /** The proxy's name: the `ProxyName` dimension of its metrics. */
  readonly name: string;
  /** The proxy's endpoint host: DB_HOST of the services. */
  readonly endpoint: pulumi.Output<string>;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly role: aws.iam.Role;
  readonly targetGroup: aws.rds.ProxyDefaultTargetGroup;
  readonly target: aws.rds.ProxyTarget;
  /**
   * Per login role, a secret holding its DATABASE_URL through the proxy (key `url`): the login
   * role's secret names the instance, and is written before the proxy exists.
   */
  readonly urlSecrets: Record<
    RoleSlot,
    { secret: aws.secretsmanager.Secret; version: aws.secretsmanager.SecretVersion }
  >;

  constructor(name: string, args: PostgresProxyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:PostgresProxy", name, {}, opts);
    this.name = proxyName(args.identifier);
    const child = { parent: this };

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-db-proxy`,
      {
        vpcId: args.vpcId,
        description: "RDS Proxy: 5432 from the app tier, out to the database only",
        // No inline rules: the provider removes AWS's allow-all egress, the rules below are all there is.
        tags: { Name: `${name}-db-proxy` },
      },
      child,
    );
    const rule = { ipProtocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT };
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-proxy-from-app`,
      {
        securityGroupId: this.securityGroup.id,
        description: "PostgreSQL from the app tasks",
        ...rule,
        referencedSecurityGroupId: args.clientSecurityGroupId,
      },
      child,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-to-db-proxy`,
      {
        securityGroupId: args.clientSecurityGroupId,
        description: "PostgreSQL to the database proxy",
        ...rule,
        referencedSecurityGroupId: this.securityGroup.id,
      },
      child,
    );
    (args.externalClientSecurityGroupIds ?? []).forEach(
      (group, i) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-db-proxy-from-cluster${i === 0 ? "" : `-${i + 1}`}`,
          {
            securityGroupId: this.securityGroup.id,
            description: "PostgreSQL from the Kubernetes cluster's client group",
            ...rule,
            referencedSecurityGroupId: group,
          },
          child,
        ),
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-db-proxy-to-db`,
      {
        securityGroupId: this.securityGroup.id,
        description: "PostgreSQL to the database",
        ...rule,
        referencedSecurityGroupId: args.databaseSecurityGroupId,
      },
      child,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-from-proxy`,
      {
        securityGroupId: args.databaseSecurityGroupId,
        description: "PostgreSQL from the database proxy",
        ...rule,
        referencedSecurityGroupId: this.securityGroup.id,
      },
      child,
    );

    this.role = new aws.iam.Role(
      `${name}-db-proxy`,
      {
        description: `Lets RDS Proxy ${this.name} read the app login role secrets`,
        assumeRolePolicy: serviceTrustPolicy(
          "rds.amazonaws.com",
          args.accountId,
          pulumi.interpolate`arn:${args.partition}:rds:${args.region}:${args.accountId}:db-proxy:*`,
        ),
      },
      child,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-db-proxy`,
      {
        role: this.role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: args.logins.map((l) => l.secretArn) },
            {
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: args.kmsKeyArn,
              Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } },
            },
          ],
        }),
      },
      child,
    );

    this.proxy = new aws.rds.Proxy(
      `${name}-db-proxy`,
      {
        name: this.name,
        engineFamily: "POSTGRESQL",
        requireTls: true,
        idleClientTimeout: args.idleClientTimeoutSeconds,
        roleArn: this.role.arn,
        vpcSubnetIds: args.subnetIds,
        vpcSecurityGroupIds: [this.securityGroup.id],
        auths: args.logins.map(({ role, secretArn }) => ({
          authScheme: "SECRETS",
          secretArn,
          // Passwords only: IAM sign-in would need rds-db:connect on every app task role and apps
          // that fetch a token every 15 minutes; neither exists yet (R-db-proxy).
          iamAuth: "DISABLED",
          clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256",
          description: `PostgreSQL login role ${role}`,
        })),
      },
      // The proxy reads the secrets when a client signs in: the role's policy must exist first.
      { ...child, dependsOn: [policy] },
    );
    this.endpoint = this.proxy.endpoint;

    this.targetGroup = new aws.rds.ProxyDefaultTargetGroup(
      `${name}-db-proxy`,
      {
        dbProxyName: this.proxy.name,
        connectionPoolConfig: {
          maxConnectionsPercent: args.maxConnectionsPercent,
          maxIdleConnectionsPercent: args.maxIdleConnectionsPercent,
          connectionBorrowTimeout: args.connectionBorrowTimeoutSeconds,
        },
      },
      child,
    );
    this.target = new aws.rds.ProxyTarget(
      `${name}-db-proxy`,
      {
        dbProxyName: this.proxy.name,
        targetGroupName: this.targetGroup.name,
        dbInstanceIdentifier: args.instanceIdentifier,
      },
      child,
    );

    // R-db-proxy: the apps that read DATABASE_URL reach the proxy too, not only those reading DB_HOST.
    this.urlSecrets = {} as PostgresProxy["urlSecrets"];
    for (const login of args.logins) {
      const resourceName = `${name}-db-proxy-url-${login.slot}`;
      const secret = new aws.secretsmanager.Secret(
        resourceName,
        {
          namePrefix: `opsbook/${args.identifier}/app-proxy-url-${login.slot}-`,
          description: `DATABASE_URL of PostgreSQL login role ${login.role} through the RDS Proxy ${this.name}`,
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: SECRET_RECOVERY_WINDOW_DAYS,
        },
        { ...child, protect: args.protect },
      );
      const version = new aws.secretsmanager.SecretVersion(
        resourceName,
        {
          secretId: secret.id,
          secretString: pulumi.secret(
            pulumi.jsonStringify({
              [ROLE_SECRET_KEYS.url]: postgresUrl({
                user: login.role,
                password: login.password,
                host: this.endpoint,
                port: POSTGRES_PORT,
                database: args.databaseName,
              }),
            }),
          ),
        },
        child,
      );
      this.urlSecrets[login.slot] = { secret, version };
    }

    this.registerOutputs({ name: this.name, endpoint: this.endpoint });
  }
}
