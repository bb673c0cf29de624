/**
 * Rules about losing data or its protection: a stateful resource replaced or deleted, deletion
 * protection or a final snapshot dropped, `protect` removed, backups kept for less time or taken
 * at another time, encryption or TLS turned off.
 */
import { STATEFUL } from "../../../lib/stateful";
import { asText, at, isUnknown, list, sameValue, show, text } from "../values";
import { decreased, type Finding, isModified, type Rule, sides, turnedOff } from "./rule";

/** Types whose loss loses data, keys or images, with the word a reviewer knows them by. */
export const STATEFUL_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(STATEFUL).map(([type, { noun }]) => [type, noun]),
);

/** What a replacement costs, where "the new one starts empty" is not the whole story. */
const REPLACEMENT_COST: Readonly<Record<string, string>> = {
  "KMS key": "what the old key encrypted cannot be decrypted with the new one",
  secret: "the new one starts without the stored value",
};

const stateful: Rule = (change) => {
  const what = STATEFUL_TYPES[change.type];
  if (!what) return [];
  const { b, a } = sides(change);
  if (change.op === "replace") {
    const why = change.replaceReasons.map((key) => `${key} ${show(b[key])} → ${show(a[key])}`).join(", ");
    return [
      {
        kind: "stateful-replaced",
        detail: `${what} replaced${why ? ` (${why})` : ""}: ${REPLACEMENT_COST[what] ?? "the new one starts empty"}`,
      },
    ];
  }
  if (change.op === "delete") {
    const kept = change.before?.retainOnDelete ? " (retainOnDelete: AWS keeps it, Pulumi stops managing it)" : "";
    return [{ kind: "stateful-deleted", detail: `${what} deleted${kept}` }];
  }
  return [];
};

const deletionProtection: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  return ["deletionProtection", "enableDeletionProtection"]
    .filter((key) => turnedOff(b[key], a[key], true))
    .map((key) => ({ kind: "deletion-protection-off", detail: `${key} ${show(b[key])} → ${show(a[key])}` }));
};

const finalSnapshot: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  const findings: Finding[] = [];
  if (a.skipFinalSnapshot === true && b.skipFinalSnapshot !== true) {
    findings.push({
      kind: "final-snapshot-skipped",
      detail: `skipFinalSnapshot ${show(b.skipFinalSnapshot)} → true: deleting it keeps no snapshot`,
    });
  }
  if (text(b.finalSnapshotIdentifier) && !text(a.finalSnapshotIdentifier) && !isUnknown(a.finalSnapshotIdentifier)) {
    findings.push({
      kind: "final-snapshot-skipped",
      detail: `finalSnapshotIdentifier ${show(b.finalSnapshotIdentifier)} → (unset)`,
    });
  }
  return findings;
};

const protectDropped: Rule = (change) => {
  if (!isModified(change) || !change.before || !change.after) return [];
  const findings: Finding[] = [];
  if (change.before.protect && !change.after.protect)
    findings.push({ kind: "protect-dropped", detail: "protect true → false: Pulumi may now delete it" });
  if (change.before.retainOnDelete && !change.after.retainOnDelete)
    findings.push({
      kind: "protect-dropped",
      detail: "retainOnDelete true → false: deleting it from the program deletes it in AWS",
    });
  return findings;
};

/** Retention inputs, and whether dropping the input means "none" (ElastiCache) or "as it is" (RDS, computed). */
const RETENTION: ReadonlyArray<{ key: string; absentMeans?: number }> = [
  { key: "backupRetentionPeriod" },
  { key: "snapshotRetentionLimit", absentMeans: 0 },
];

const backupRetention: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  return RETENTION.flatMap(({ key, absentMeans }) => {
    const shorter = decreased(b[key], a[key] === undefined ? absentMeans : a[key]);
    return shorter
      ? [{ kind: "backup-retention-shortened" as const, detail: `${key} ${shorter.from} → ${shorter.to} days` }]
      : [];
  });
};

const backupWindow: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  return ["backupWindow", "preferredBackupWindow", "snapshotWindow"]
    .filter((key) => text(b[key]) !== undefined && !isUnknown(a[key]) && !sameValue(b[key], a[key]))
    .map((key) => ({ kind: "backup-window-moved", detail: `${key} ${show(b[key])} → ${show(a[key])}` }));
};

/** Encryption flags: true when dropping the input turns encryption off (a false default). */
const ENCRYPTION_FLAGS: ReadonlyArray<{ key: string; absentIsOff: boolean; what: string }> = [
  { key: "storageEncrypted", absentIsOff: true, what: "storage encryption" },
  { key: "atRestEncryptionEnabled", absentIsOff: false, what: "encryption at rest" },
  { key: "encrypted", absentIsOff: true, what: "encryption" },
  { key: "enableKeyRotation", absentIsOff: true, what: "key rotation" },
];
const KEY_REFERENCES = ["kmsKeyId", "kmsMasterKeyId", "kmsKeyArn"];
const SSE_TYPES = new Set([
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
]);

function sseAlgorithms(inputs: Record<string, unknown>): string[] {
  return list(inputs.rules)
    .map((rule) => at(rule as Record<string, unknown>, "applyServerSideEncryptionByDefault.sseAlgorithm"))
    .filter((v): v is string => typeof v === "string");
}

const encryptionOff: Rule = (change) => {
  const { b, a } = sides(change);
  if (SSE_TYPES.has(change.type)) {
    if (change.op === "delete")
      return [{ kind: "encryption-off", detail: "bucket default encryption configuration deleted" }];
    const wasKms = sseAlgorithms(b).some((alg) => alg.startsWith("aws:kms"));
    const isKms = sseAlgorithms(a).some((alg) => alg.startsWith("aws:kms"));
    if (isModified(change) && wasKms && !isKms)
      return [
        {
          kind: "encryption-off",
          detail: `default encryption ${sseAlgorithms(b).join(", ")} → ${sseAlgorithms(a).join(", ") || "(unset)"}`,
        },
      ];
    return [];
  }
  if (!isModified(change)) return [];
  const flags = ENCRYPTION_FLAGS.filter(({ key, absentIsOff }) => turnedOff(b[key], a[key], absentIsOff)).map(
    ({ key, what }) => ({
      kind: "encryption-off" as const,
      detail: `${what} turned off (${key} ${show(b[key])} → ${show(a[key])})`,
    }),
  );
  const keys = KEY_REFERENCES.filter(
    (key) => text(b[key]) !== undefined && text(a[key]) === undefined && !isUnknown(a[key]),
  ).map((key) => ({
    kind: "encryption-off" as const,
    detail: `${key} ${show(b[key])} → (unset): no longer encrypted with the customer-managed key`,
  }));
  return [...flags, ...keys];
};

const LISTENER_TYPES = new Set(["aws:lb/listener:Listener", "aws:alb/listener:Listener"]);
const PARAMETER_GROUP_TYPES = new Set([
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/clusterParameterGroup:ClusterParameterGroup",
]);
/** Database parameters that refuse unencrypted connections when on. */
const TLS_PARAMETERS = ["rds.force_ssl", "require_secure_transport"];

function parameter(inputs: Record<string, unknown>, name: string): unknown {
  const found = list(inputs.parameters).find((p) => at(p as Record<string, unknown>, "name") === name);
  return found === undefined ? undefined : at(found as Record<string, unknown>, "value");
}

function redirectsToHttps(inputs: Record<string, unknown>): boolean {
  return list(inputs.defaultActions).some((action) => {
    const act = action as Record<string, unknown>;
    return act.type === "redirect" && asText(at(act, "redirect.protocol")).toUpperCase() === "HTTPS";
  });
}

const tlsOff: Rule = (change) => {
  const { b, a } = sides(change);
  const findings: Finding[] = [];
  if (change.type === "aws:s3/bucketPolicy:BucketPolicy" && asText(b.policy).includes("aws:SecureTransport")) {
    if (change.op === "delete")
      findings.push({ kind: "tls-off", detail: "bucket policy that refuses requests without TLS deleted" });
    else if (isModified(change) && !isUnknown(a.policy) && !asText(a.policy).includes("aws:SecureTransport")) {
      findings.push({
        kind: "tls-off",
        detail: "bucket policy no longer refuses requests without TLS (aws:SecureTransport)",
      });
    }
  }
  if (!isModified(change)) return findings;
  if (turnedOff(b.transitEncryptionEnabled, a.transitEncryptionEnabled, false)) {
    findings.push({
      kind: "tls-off",
      detail: `transitEncryptionEnabled ${show(b.transitEncryptionEnabled)} → ${show(a.transitEncryptionEnabled)}`,
    });
  }
  if (PARAMETER_GROUP_TYPES.has(change.type)) {
    for (const name of TLS_PARAMETERS) {
      const was = asText(parameter(b, name)).toLowerCase();
      const now = asText(parameter(a, name)).toLowerCase();
      if ((was === "1" || was === "on") && now !== "1" && now !== "on")
        findings.push({
          kind: "tls-off",
          detail: `parameter ${name} ${show(parameter(b, name))} → ${show(parameter(a, name))}`,
        });
    }
  }
  if (LISTENER_TYPES.has(change.type)) {
    const secure = (p: unknown) => p === "HTTPS" || p === "TLS";
    if (secure(b.protocol) && !secure(a.protocol) && !isUnknown(a.protocol))
      findings.push({ kind: "tls-off", detail: `listener protocol ${show(b.protocol)} → ${show(a.protocol)}` });
    if (redirectsToHttps(b) && !redirectsToHttps(a))
      findings.push({ kind: "tls-off", detail: "listener no longer redirects to HTTPS" });
  }
  return findings;
};

export const DATA_RULES: readonly Rule[] = [
  stateful,
  deletionProtection,
  finalSnapshot,
  protectDropped,
  backupRetention,
  backupWindow,
  encryptionOff,
  tlsOff,
];
