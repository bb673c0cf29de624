/**
 * The S3 side: a bucket check before any work, streaming uploads, and reads that turn S3's
 * terse errors ("NotFound", 403) into sentences that say which bucket or key and what to fix.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Readable } from "node:stream";
import type { StorageConfig } from "./config";
import { JobError, errorMessage } from "./errors";
import { BACKUP_ENV } from "../../../lib/backupContract";

/** Static credentials or a provider; unset means the SDK's default chain (the ECS task role). */
export type AwsCredentials = NonNullable<S3ClientConfig["credentials"]>;

/** Parts uploaded in parallel; memory use is about this many parts. */
const UPLOAD_QUEUE_SIZE = 4;

/**
 * An S3 client for the configured region and endpoint.
 *
 * With an endpoint override the SDK's default request checksums are turned off: they use
 * `aws-chunked` trailers that older S3-compatible servers store verbatim, corrupting the object.
 * Against AWS S3 they stay on. Integrity is checked end to end by the job's own sha256 anyway.
 */
export function createS3Client(config: StorageConfig, credentials?: AwsCredentials): S3Client {
  return new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint !== undefined && {
      endpoint: config.endpoint,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
    ...(credentials !== undefined && { credentials }),
  });
}

/** `s3://bucket/key`, the form operators paste into the AWS CLI. */
export const s3Url = (bucket: string, key?: string): string =>
  key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;

interface S3ErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

const statusOf = (error: unknown): number | undefined => (error as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;

/** True for "no such key/bucket" in any of the shapes S3 and compatible servers use. */
export function isNotFound(error: unknown): boolean {
  const name = (error as S3ErrorShape | undefined)?.name;
  return statusOf(error) === 404 || name === "NoSuchKey" || name === "NotFound" || name === "NoSuchBucket";
}

/**
 * Fails fast, before a dump is started, if the bucket does not exist or the task may not use it.
 *
 * @throws {JobError} saying which bucket and which permission is missing
 */
export async function checkBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const status = statusOf(error);
    if (status === 404 || (error as S3ErrorShape).name === "NoSuchBucket") {
      throw new JobError(
        `S3 bucket "${bucket}" does not exist (HeadBucket returned 404); check ${BACKUP_ENV.bucket} and ${BACKUP_ENV.region}`,
        { cause: error },
      );
    }
    if (status === 403) {
      throw new JobError(
        `access to S3 bucket "${bucket}" is denied (HeadBucket returned 403); the task role needs s3:ListBucket on arn:aws:s3:::${bucket}`,
        {
          cause: error,
        },
      );
    }
    throw new JobError(`cannot reach S3 bucket "${bucket}": ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Streams `body` to S3 as a multipart upload (a single PUT if it fits in one part), so no full
 * copy of the dump is ever held in memory or on disk. If the body stream errors, the upload is
 * aborted and no object is created.
 *
 * @throws the SDK's error, for the caller to weigh against the producer's exit status
 */
export async function uploadStream(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Readable,
  partSizeBytes: number,
): Promise<void> {
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: "application/octet-stream" },
    partSize: partSizeBytes,
    queueSize: UPLOAD_QUEUE_SIZE,
    leavePartsOnError: false,
  });
  await upload.done();
}

/**
 * The stored size of an object.
 *
 * @param what how to name the object in an error, e.g. "the dump named by latest.json"
 * @throws {JobError} if it is missing or unreadable
 */
export async function objectSize(s3: S3Client, bucket: string, key: string, what: string): Promise<number> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.ContentLength ?? 0;
  } catch (error) {
    throw describeReadError(error, bucket, key, what);
  }
}

/**
 * A stream of an object's bytes.
 *
 * @throws {JobError} if it is missing or unreadable
 */
export async function openObject(s3: S3Client, bucket: string, key: string, what: string): Promise<Readable> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!(response.Body instanceof Readable)) {
      throw new Error("the response has no readable body");
    }
    return response.Body;
  } catch (error) {
    throw describeReadError(error, bucket, key, what);
  }
}

/**
 * The whole body of a small object as text.
 *
 * @throws {JobError} if it is missing or unreadable
 */
export async function readText(s3: S3Client, bucket: string, key: string, what: string): Promise<string> {
  const body = await openObject(s3, bucket, key, what);
  const chunks: Buffer[] = [];
  for await (const chunk of body) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Writes a small JSON document.
 *
 * @throws {JobError} naming the key
 */
export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: "application/json",
      }),
    );
  } catch (error) {
    throw new JobError(`could not write ${s3Url(bucket, key)}: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Deletes an object (on a versioned bucket: hides it behind a delete marker; the lifecycle rule
 * expires the old version). Deleting a key that does not exist succeeds.
 */
export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

function describeReadError(error: unknown, bucket: string, key: string, what: string): JobError {
  if (error instanceof JobError) {
    return error;
  }
  if (isNotFound(error)) {
    return new JobError(`${what} does not exist: ${s3Url(bucket, key)}`, { cause: error });
  }
  if (statusOf(error) === 403) {
    return new JobError(
      `access to ${what} (${s3Url(bucket, key)}) is denied; the task role needs s3:GetObject on arn:aws:s3:::${bucket}/*`,
      {
        cause: error,
      },
    );
  }
  return new JobError(`could not read ${what} (${s3Url(bucket, key)}): ${errorMessage(error)}`, { cause: error });
}
