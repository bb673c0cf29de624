/**
 * The stateful resource types: those whose loss loses data or the keys to it. One table for the
 * policy pack (`protect` and keep-data rules), the risk diff (replacements and deletes worth a
 * reviewer's attention) and the stack tests, so a type added here is protected, checked and
 * reported alike. Plain data without imports: the policy pack loads it outside the program.
 */

/** What the callers know about one stateful type. */
export interface StatefulType {
  /** How policy messages name it, e.g. "RDS instance". */
  readonly kind: string;
  /** The word a reviewer knows it by in risk diff findings, e.g. "database". */
  readonly noun: string;
  /**
   * Whether it must carry Pulumi `protect` (the policy's default `types`, the stack tests). False
   * where a loss is tolerable or recoverable without it: log groups expire by retention anyway and
   * the program leaves them unprotected. Image repositories are protected: they hold the released
   * images, which a rebuild (with immutable tags and new digests) does not bring back.
   */
  readonly protect: boolean;
}

/** Every stateful type token, in the order the policy lists them by default. */
export const STATEFUL = {
  "aws:rds/instance:Instance": { kind: "RDS instance", noun: "database", protect: true },
  "aws:rds/cluster:Cluster": { kind: "RDS cluster", noun: "database cluster", protect: true },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    kind: "ElastiCache replication group",
    noun: "cache",
    protect: true,
  },
  "aws:elasticache/cluster:Cluster": { kind: "ElastiCache cluster", noun: "cache", protect: true },
  "aws:s3/bucket:Bucket": { kind: "S3 bucket", noun: "bucket", protect: true },
  "aws:s3/bucketV2:BucketV2": { kind: "S3 bucket", noun: "bucket", protect: true },
  "aws:kms/key:Key": { kind: "KMS key", noun: "KMS key", protect: true },
  "aws:secretsmanager/secret:Secret": { kind: "Secret", noun: "secret", protect: true },
  "aws:dynamodb/table:Table": { kind: "DynamoDB table", noun: "table", protect: true },
  "aws:elasticache/serverlessCache:ServerlessCache": {
    kind: "ElastiCache serverless cache",
    noun: "cache",
    protect: true,
  },
  "aws:efs/fileSystem:FileSystem": { kind: "EFS file system", noun: "file system", protect: true },
  "aws:ebs/volume:Volume": { kind: "EBS volume", noun: "volume", protect: true },
  "aws:cloudwatch/logGroup:LogGroup": { kind: "CloudWatch log group", noun: "log group", protect: false },
  "aws:ecr/repository:Repository": { kind: "ECR repository", noun: "image repository", protect: true },
} as const satisfies Readonly<Record<string, StatefulType>>;

/** A stateful type token. */
export type StatefulTypeToken = keyof typeof STATEFUL;

/** Whether `type` is a stateful type token. */
export function isStateful(type: string): type is StatefulTypeToken {
  return Object.prototype.hasOwnProperty.call(STATEFUL, type);
}

/** The entry of `type`, or undefined when it is not stateful. */
export function statefulType(type: string): StatefulType | undefined {
  return isStateful(type) ? STATEFUL[type] : undefined;
}

/** The types that must carry Pulumi `protect`, in table order. */
export const PROTECTED_TYPES: readonly StatefulTypeToken[] = (Object.keys(STATEFUL) as StatefulTypeToken[]).filter(
  (type) => STATEFUL[type].protect,
);

/** Days a deleted Secrets Manager secret can still be restored: the longest AWS allows. */
export const SECRET_RECOVERY_WINDOW_DAYS = 30;
