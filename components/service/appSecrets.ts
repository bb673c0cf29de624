import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ServiceConnection } from "../../lib/connection";

export interface AppSecretsArgs {
  /** Environment variable names, one generated secret each (e.g. JWT_SECRET). */
  names: string[];
  /** Characters per secret; the runbooks ask for at least 32. */
  length: number;
  /** A label; changing it generates every secret anew on the next update (the quarterly rotation). */
  rotation: string;
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
  readonly connection: ServiceConnection;
  readonly secretArns: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:AppSecrets", name, {}, opts);
    if (args.length < 32)
      throw new pulumi.ResourceError(
        `appSecrets.length must be at least 32 characters, got ${args.length}: set it with pulumi config set --path 'opsbook:appSecrets.length' 48`,
        this,
      );
    if (new Set(args.names).size !== args.names.length)
      throw new pulumi.ResourceError(`appSecrets.names has duplicates: ${args.names.join(", ")}`, this);

    this.secretArns = {};
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
          recoveryWindowInDays: 30,
        },
        { parent: this, protect: args.protect },
      );
      new aws.secretsmanager.SecretVersion(
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
    };
    this.registerOutputs({ secretArns: this.secretArns });
  }
}
