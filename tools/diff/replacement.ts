import { isStateful, type StatefulTypeToken } from "../../lib/stateful";

/**
 * Inputs whose change makes the AWS provider replace a stateful resource (delete and create
 * again) instead of updating it in place. Two offline plans cannot ask the provider, so this
 * table is a heuristic for the resources where a replacement loses data; `--preview` reads the
 * provider's own answer (`replaceReasons`) and needs no table.
 *
 * Checked against the ForceNew markers of the Terraform AWS provider that `@pulumi/aws` bridges.
 * Deliberately absent: RDS `dbSubnetGroupName` (updated in place), ElastiCache `engine` (replaced
 * only on a downgrade) and `transitEncryptionEnabled` (replaced only below Redis 7.0.5).
 * Keyed by the shared stateful types (lib/stateful.ts), so another key does not compile.
 */
export const REPLACING_INPUTS: Readonly<Partial<Record<StatefulTypeToken, readonly string[]>>> = {
  "aws:rds/instance:Instance": [
    "identifier",
    "identifierPrefix",
    "engine",
    "storageEncrypted",
    "kmsKeyId",
    "availabilityZone",
    "username",
    "dbName",
    "characterSetName",
    "ncharCharacterSetName",
    "timezone",
    "snapshotIdentifier",
    "restoreToPointInTime",
  ],
  "aws:rds/cluster:Cluster": [
    "clusterIdentifier",
    "clusterIdentifierPrefix",
    "engine",
    "storageEncrypted",
    "kmsKeyId",
    "masterUsername",
    "databaseName",
    "snapshotIdentifier",
    "restoreToPointInTime",
  ],
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    "replicationGroupId",
    "atRestEncryptionEnabled",
    "kmsKeyId",
    "subnetGroupName",
    "port",
    "snapshotArns",
    "snapshotName",
    "dataTieringEnabled",
    "networkType",
  ],
  "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:s3/bucketV2:BucketV2": ["bucket", "bucketPrefix", "objectLockEnabled"],
  "aws:kms/key:Key": ["keyUsage", "customerMasterKeySpec", "multiRegion"],
  "aws:cloudwatch/logGroup:LogGroup": ["name", "namePrefix", "logGroupClass"],
  "aws:secretsmanager/secret:Secret": ["name", "namePrefix"],
  "aws:efs/fileSystem:FileSystem": [
    "creationToken",
    "encrypted",
    "kmsKeyId",
    "performanceMode",
    "availabilityZoneName",
  ],
  "aws:dynamodb/table:Table": ["name", "hashKey", "rangeKey"],
};

/** The changed inputs of a resource of `type` that force its replacement, in table order. */
export function replacingInputs(type: string, changedKeys: readonly string[]): string[] {
  return (isStateful(type) ? (REPLACING_INPUTS[type] ?? []) : []).filter((key) => changedKeys.includes(key));
}
