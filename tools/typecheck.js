#!/usr/bin/env node
/**
 * `npm run typecheck`: strict tsc over the program, tools and tests (tsconfig.check.json) and the
 * backup job (jobs/backup/tsconfig.check.json), in build mode with build info under `.cache/tsc/`.
 *
 * Build mode skips a project whose source files are all older than its build info, and checks
 * again only what a changed file affects; a project that had errors keeps them in its build info,
 * so a rerun fails the same way until they are fixed. What build mode does not look at is the files
 * outside the project's own sources: the installed packages' declarations, the JSON files the
 * sources import, and another project's sources they import. So the digest of those
 * (package-lock.json stands for node_modules, plus the TypeScript version) is kept beside the build
 * info, and when it changed the projects are checked again in full (`--force`). A fresh clone has
 * no build info and checks everything.
 */
const { spawnSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, ".cache", "tsc");
const STAMP = path.join(CACHE, "inputs.sha256");
const PROJECTS = ["tsconfig.check.json", "jobs/backup/tsconfig.check.json"];

/** A project's build info file, as its tsconfig.check.json names it (the file has line comments only). */
function buildInfoOf(project) {
  const file = path.join(ROOT, project);
  const text = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => !line.trim().startsWith("//"))
    .join("\n");
  const name = JSON.parse(text).compilerOptions?.tsBuildInfoFile;
  if (typeof name !== "string")
    throw new Error(`${project} sets no compilerOptions.tsBuildInfoFile: set one under .cache/tsc/`);
  return path.resolve(path.dirname(file), name);
}
const BUILD_INFO = PROJECTS.map(buildInfoOf);
const TSC = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");

/**
 * The files a build info lists that are neither the project's own sources (its `root`, 1-based
 * file ids, single or as inclusive ranges) nor installed packages: the JSON the sources import,
 * and sources of another project they import (the root project's tests import the backup job's).
 */
function outsideSources(buildInfo) {
  let info;
  try {
    info = JSON.parse(fs.readFileSync(buildInfo, "utf8"));
  } catch {
    return []; // no build info yet (or a partial one): the check runs in full anyway
  }
  const roots = new Set();
  for (const r of info.root ?? []) {
    if (Array.isArray(r)) for (let id = r[0]; id <= r[1]; id++) roots.add(id);
    else roots.add(r);
  }
  const dir = path.dirname(buildInfo);
  return (info.fileNames ?? [])
    .filter((f, i) => !roots.has(i + 1) && !f.split("/").includes("node_modules"))
    .map((f) => path.resolve(dir, f));
}

/** Digest of what build mode does not watch, as the build info files list it now. */
function inputsDigest() {
  const hash = createHash("sha256");
  hash.update(require(path.join(ROOT, "node_modules", "typescript", "package.json")).version);
  const files = [path.join(ROOT, "package-lock.json"), ...BUILD_INFO.flatMap(outsideSources)].sort();
  for (const file of files) {
    hash.update(`\0${path.relative(ROOT, file)}\0`);
    try {
      hash.update(fs.readFileSync(file));
    } catch {
      hash.update("(missing)");
    }
  }
  return hash.digest("hex");
}

function main() {
  const before = inputsDigest();
  let saved;
  try {
    saved = fs.readFileSync(STAMP, "utf8").trim();
  } catch {
    saved = undefined;
  }
  const force = saved !== before || BUILD_INFO.some((f) => !fs.existsSync(f));
  const args = [TSC, "--build", ...(force ? ["--force"] : []), ...PROJECTS];
  const run = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
  if (run.error) throw run.error;
  if (run.signal) {
    // Ended as tsc was (Ctrl-C), and never as a success should the signal not end this process.
    process.exitCode = 128 + (os.constants.signals[run.signal] ?? 0);
    process.kill(process.pid, run.signal);
    return;
  }
  // The build info now reflects these inputs (errors included): record them, even after a failure.
  fs.mkdirSync(CACHE, { recursive: true });
  fs.writeFileSync(STAMP, `${inputsDigest()}\n`);
  process.exitCode = run.status ?? 1;
}

main();
