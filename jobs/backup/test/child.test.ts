import { describeExit, runToCompletion, startChild, succeeded } from "../src/child";

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

describe("describeExit", () => {
  test.each([
    [
      { code: 1, signal: null, stderr: "pg_dump: error: boom\npg_dump: detail: more" },
      "pg_dump exited with code 1: pg_dump: error: boom | pg_dump: detail: more",
    ],
    [{ code: null, signal: "SIGTERM" as const, stderr: "" }, "pg_dump was killed by SIGTERM"],
    [{ code: 0, signal: null, stderr: "" }, "pg_dump exited with code 0"],
  ])("%j reads as %s", (exit, text) => {
    expect(describeExit("pg_dump", exit)).toBe(text);
  });
});

describe("child processes", () => {
  test("exit status and stderr are collected even when stdout looked fine", async () => {
    const child = startChild("sh", ["-c", "printf 'partial output'; echo 'it broke' >&2; exit 3"], {
      env,
      stdout: "capture",
    });
    child.process.stdin.end();
    const exit = await child.exit;
    expect(exit).toEqual({ code: 3, signal: null, stderr: "it broke" });
    expect(succeeded(exit)).toBe(false);
    expect(child.stdout()).toBe("partial output");
  });

  test("runToCompletion returns stdout of a successful program", async () => {
    await expect(runToCompletion("sh", ["-c", "echo hello"], { env }, "unused")).resolves.toBe("hello\n");
  });

  test("runToCompletion names the failure and the program's error", async () => {
    await expect(runToCompletion("sh", ["-c", "echo nope >&2; exit 2"], { env }, "checking")).rejects.toThrow(
      new Error("checking: sh exited with code 2: nope"),
    );
  });

  test("a missing program is reported as not installed", async () => {
    const child = startChild("opsbook-no-such-program", [], { env });
    await expect(child.exit).rejects.toThrow(
      /^could not start opsbook-no-such-program: it is not installed or not on PATH \(spawn opsbook-no-such-program ENOENT\)$/,
    );
  });

  test("an abort signal terminates the child", async () => {
    const controller = new AbortController();
    const child = startChild("sleep", ["30"], { env, signal: controller.signal });
    controller.abort();
    await expect(child.exit).resolves.toEqual({ code: null, signal: "SIGTERM", stderr: "" });
  });
});
