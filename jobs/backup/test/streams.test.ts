import { createHash } from "node:crypto";
import { PassThrough, Readable, Writable } from "node:stream";
import { ByteTally, GuardedTally, feed } from "../src/streams";

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Reads a stream to the end, resolving with its text or rejecting with its error. */
async function readAll(stream: Readable): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe("GuardedTally", () => {
  test("passes the bytes through and ends once the producer succeeded", async () => {
    const guarded = new GuardedTally(Promise.resolve());
    Readable.from([Buffer.from("PGDMP"), Buffer.from(" rest")]).pipe(guarded);
    await expect(readAll(guarded)).resolves.toBe("PGDMP rest");
    expect(guarded.tally.bytes).toBe(10);
    expect(guarded.tally.digest()).toBe(sha256("PGDMP rest"));
  });

  test("errors instead of ending when the producer failed, so a consumer never sees a clean end", async () => {
    const guarded = new GuardedTally(Promise.reject(new Error("pg_dump exited with code 1")));
    Readable.from([Buffer.from("PGDMP truncated")]).pipe(guarded);
    await expect(readAll(guarded)).rejects.toThrow("pg_dump exited with code 1");
  });
});

describe("feed", () => {
  test("copies everything into the sink and ends it", async () => {
    const sink = new PassThrough();
    const received = readAll(sink);
    const tally = new ByteTally();
    await expect(feed(Readable.from([Buffer.from("abc"), Buffer.from("def")]), sink, tally, false)).resolves.toEqual({
      sinkClosedEarly: false,
    });
    await expect(received).resolves.toBe("abcdef");
    expect(tally.bytes).toBe(6);
  });

  /** A sink that accepts one chunk and then fails like a pipe whose reader exited. */
  function sinkThatDiesAfterOneChunk(): Writable {
    let chunks = 0;
    return new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        chunks += 1;
        callback(chunks > 1 ? Object.assign(new Error("write EPIPE"), { code: "EPIPE" }) : null);
      },
    });
  }

  const source = (): Readable => Readable.from(["one", "two", "three", "four"].map((s) => Buffer.from(s)));

  test("keeps reading after the sink died when asked to, so the hash covers the whole object", async () => {
    const tally = new ByteTally();
    await expect(feed(source(), sinkThatDiesAfterOneChunk(), tally, true)).resolves.toEqual({ sinkClosedEarly: true });
    expect(tally.bytes).toBe("onetwothreefour".length);
    expect(tally.digest()).toBe(sha256("onetwothreefour"));
  });

  test("stops reading after the sink died otherwise", async () => {
    const tally = new ByteTally();
    await expect(feed(source(), sinkThatDiesAfterOneChunk(), tally, false)).resolves.toEqual({ sinkClosedEarly: true });
    expect(tally.bytes).toBeLessThan("onetwothreefour".length);
  });
});
