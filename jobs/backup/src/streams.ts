/**
 * Stream plumbing for dumps that never touch the local disk: counting and hashing bytes as they
 * pass, and holding back the end of a dump until the program that wrote it has exited cleanly.
 */
import { createHash, type Hash } from "node:crypto";
import { Transform, type Readable, type TransformCallback, type Writable } from "node:stream";

/** Running size and sha256 of the bytes seen so far. */
export class ByteTally {
  private readonly hash: Hash = createHash("sha256");
  private count = 0;

  add(chunk: Buffer): void {
    this.hash.update(chunk);
    this.count += chunk.length;
  }

  get bytes(): number {
    return this.count;
  }

  /** Hex digest; call once, after the last chunk. */
  digest(): string {
    return this.hash.digest("hex");
  }
}

/**
 * Passes a producer's output through while tallying it, and ends only once `producerSucceeded`
 * resolves. If the producer fails, the stream errors instead of ending, so a consumer such as an
 * S3 upload never completes with a truncated dump that merely looked finished.
 */
export class GuardedTally extends Transform {
  readonly tally = new ByteTally();

  constructor(private readonly producerSucceeded: Promise<void>) {
    super();
    // The failure is reported through flush() or by the caller awaiting the producer; this only
    // keeps an early failure from surfacing as an unhandled rejection.
    producerSucceeded.catch(() => undefined);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.tally.add(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.producerSucceeded.then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}

export interface FeedResult {
  /** True if the sink stopped accepting data before the source ended. */
  sinkClosedEarly: boolean;
}

/**
 * Copies `source` into `sink` (typically a child's stdin), showing every chunk to `tally`.
 * A sink that goes away early (pg_restore stops at a corrupt block, or a restore fails) is not an error here; the caller learns why from the child's exit status.
 *
 * @param drainAfterSinkCloses keep reading the source to the end when the sink closes early, so
 *   the tally covers every byte (needed to hash the whole object)
 */
export async function feed(
  source: Readable,
  sink: Writable,
  tally: ByteTally,
  drainAfterSinkCloses: boolean,
): Promise<FeedResult> {
  let sinkOpen = true;
  const markClosed = (): void => {
    sinkOpen = false;
  };
  sink.on("error", markClosed);
  sink.once("close", markClosed);
  try {
    for await (const chunk of source) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      tally.add(buffer);
      if (!sinkOpen) {
        if (drainAfterSinkCloses) {
          continue;
        }
        return { sinkClosedEarly: true };
      }
      if (!sink.write(buffer)) {
        await writable(sink);
      }
    }
  } finally {
    source.destroy();
  }
  if (sinkOpen) {
    sink.end();
    return { sinkClosedEarly: false };
  }
  return { sinkClosedEarly: true };
}

/** Resolves when the sink drains or goes away, whichever comes first. */
function writable(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      sink.off("drain", done);
      sink.off("close", done);
      sink.off("error", done);
      resolve();
    };
    sink.once("drain", done);
    sink.once("close", done);
    sink.once("error", done);
  });
}
