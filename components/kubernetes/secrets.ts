import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConnection } from "../../lib/connection";

/**
 * An ECS `secrets` reference as the secret's ARN and, for one key of a JSON secret, the key:
 * `arn:aws:secretsmanager:<region>:<account>:secret:<name>[:<json-key>::]`.
 */
export function parseValueFrom(valueFrom: string): { arn: string; jsonKey?: string } {
  const parts = valueFrom.split(":");
  if (parts.length <= 7) return { arn: valueFrom };
  return { arn: parts.slice(0, 7).join(":"), jsonKey: parts[7] };
}

/** The value a `valueFrom` reference names, out of the secret's current version. */
export function secretValue(secretString: string, jsonKey: string | undefined): string {
  if (jsonKey === undefined) return secretString;
  const parsed = JSON.parse(secretString) as Record<string, unknown>;
  const value = parsed[jsonKey];
  if (typeof value !== "string") throw new Error(`the secret has no string key "${jsonKey}"`);
  return value;
}

/**
 * The connections' credentials as one Kubernetes Secret, read from Secrets Manager when the
 * stack is deployed (or, for `secretValues`, the generated values themselves): the pods get them only through `secretKeyRef` to `keys`, never as plain
 * environment, and the plan shows the values as secrets.
 */
export function connectionSecret(
  name: string,
  metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> },
  connections: ServiceConnection[],
  opts: pulumi.CustomResourceOptions,
): { secret: k8s.core.v1.Secret; keys: string[] } {
  const refs = connections.flatMap((c) => Object.entries(c.secrets));
  // The lookups wait for the versions this stack writes: on its first `up` a secret created in the
  // same update has no value until its SecretVersion exists.
  const invokeOpts = { parent: opts.parent, dependsOn: connections.flatMap((c) => c.secretVersions ?? []) };
  const stringData: Record<string, pulumi.Output<string>> = {};
  for (const [key, valueFrom] of refs) {
    const ref = pulumi.output(valueFrom).apply(parseValueFrom);
    const version = aws.secretsmanager.getSecretVersionOutput({ secretId: ref.arn }, invokeOpts);
    stringData[key] = pulumi.secret(
      pulumi.all([version.secretString, ref.jsonKey]).apply(([text, jsonKey]) => secretValue(text, jsonKey)),
    );
  }
  // The in-cluster data tier's generated credentials go in as they are (R-local-postgres).
  const values = connections.flatMap((c) => Object.entries(c.secretValues ?? {}));
  for (const [key, value] of values) stringData[key] = pulumi.secret(value);
  const secret = new k8s.core.v1.Secret(
    name,
    { metadata, type: "Opaque", stringData },
    { ...opts, additionalSecretOutputs: ["data", "stringData"] },
  );
  return { secret, keys: [...refs, ...values].map(([key]) => key) };
}
