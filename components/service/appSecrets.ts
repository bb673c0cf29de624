import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ServiceConnection } from "../../lib/connection";
import type { AppSecretsSettings } from "./settings";
import { SECRET_RECOVERY_WINDOW_DAYS } from "../../lib/stateful";

/** The parsed `opsbook:appSecrets` settings (./settings.ts: at least 32 characters, distinct names) plus wiring. */
export interface AppSecretsArgs extends AppSecretsSettings {
  /** KMS key the secrets are encrypted with. */
  kmsKeyArn: pulumi.Input<string>;
  /** Pulumi `protect` on the secrets. */
  protect: boolean;
}

/**
 * The app's own secrets (JWT, refresh, session, encryption keys), generated rather than typed,
 * kept in Secrets Manager and handed to services as ECS secrets: never in git, never in a task
 * definition in clear text.
 */
export class AppSecrets extends pulumi.ComponentResource {
  /** Every app secret; a service gets only those it names, through {@link connectionFor}. */
  readonly connection: ServiceConnection;
  readonly secretArns: Record<string, pulumi.Output<string>>;
  private readonly kmsKeyArn: pulumi.Input<string>;
  private readonly rotation: string;
  private readonly versions: Record<string, aws.secretsmanager.SecretVersion>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:AppSecrets", name, {}, opts);
    this.secretArns = {};
    this.versions = {};
    this.kmsKeyArn = args.kmsKeyArn;
    this.rotation = args.rotation;
    for (const envName of args.names) {
      const slug = envName.toLowerCase().replace(/_/g, "-");
      const value = new random.RandomPassword(
        `${name}-${slug}`,
        // Letters and digits only: safe in URLs, headers and shell without quoting.
        { length: args.length, special: false, keepers: { rotation: args.rotation } },
        { parent: this },
      );
      const secret = new aws.secretsmanager.Secret(
        `${name}-${slug}`,
        {
          namePrefix: `opsbook/${name}/${slug}-`,
          description: `${envName} for the opsbook app (${name})`,
          kmsKeyId: args.kmsKeyArn,
          recoveryWindowInDays: SECRET_RECOVERY_WINDOW_DAYS,
        },
        { parent: this, protect: args.protect },
      );
      this.versions[envName] = new aws.secretsmanager.SecretVersion(
        `${name}-${slug}`,
        { secretId: secret.id, secretString: pulumi.secret(value.result) },
        { parent: this },
      );
      this.secretArns[envName] = secret.arn;
    }

    this.connection = {
      // A new rotation label changes every task definition, so the services restart with the new values.
      environment: { APP_ROTATION_LABEL: args.rotation },
      secrets: { ...this.secretArns },
      secretArns: Object.values(this.secretArns),
      kmsKeyArns: [args.kmsKeyArn],
      secretVersions: Object.values(this.versions),
    };
    this.registerOutputs({ secretArns: this.secretArns });
  }

  /**
   * The secrets a service names in `services[].uses` (R-db-roles): only those in its task
   * definition and its execution role's policy.
   *
   * @throws if a name is not one of `appSecrets.names` (the stack rules refuse that first)
   */
  connectionFor(names: readonly string[]): ServiceConnection {
    const unknown = names.filter((n) => !(n in this.secretArns));
    if (unknown.length > 0)
      throw new pulumi.ResourceError(`no app secret named ${unknown.join(", ")}; add it to appSecrets.names`, this);
    const secrets = Object.fromEntries(names.map((n) => [n, this.secretArns[n]!]));
    return {
      environment: { APP_ROTATION_LABEL: this.rotation },
      secrets,
      secretArns: Object.values(secrets),
      kmsKeyArns: [this.kmsKeyArn],
      secretVersions: names.map((n) => this.versions[n]!),
    };
  }
}
