import { PassThrough } from "node:stream";
import { createJsonLogger, redactingLogger } from "../src/log";
import { RecordingLogger } from "./support/recorders";

describe("createJsonLogger", () => {
  test("writes one JSON object per line: info to stdout, warnings and errors to stderr", () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const log = createJsonLogger("backup", out, err);

    log.info("dump uploaded", { bytes: 42 });
    log.error("backup failed: boom");

    const parse = (stream: PassThrough): unknown[] =>
      String(stream.read() ?? "")
        .trim()
        .split("\n")
        .map((line): unknown => JSON.parse(line));
    expect(parse(out)).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as jest.AsymmetricMatcher,
        level: "info",
        command: "backup",
        message: "dump uploaded",
        bytes: 42,
      },
    ]);
    expect(parse(err)).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as jest.AsymmetricMatcher,
        level: "error",
        command: "backup",
        message: "backup failed: boom",
      },
    ]);
  });
});

describe("redactingLogger", () => {
  test("masks every occurrence of every secret in messages and string fields", () => {
    const inner = new RecordingLogger();
    const log = redactingLogger(inner, ["hunter2", "tok-123"]);

    log.error("auth with hunter2 failed (token tok-123, again hunter2)", { detail: "pw=hunter2", attempts: 2 });
    log.info("nothing secret here");

    expect(inner.lines).toEqual([
      {
        level: "error",
        message: "auth with **** failed (token ****, again ****)",
        fields: { detail: "pw=****", attempts: 2 },
      },
      { level: "info", message: "nothing secret here", fields: {} },
    ]);
  });
});
