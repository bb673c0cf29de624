/**
 * Runs the project's TypeScript in plain node: `node -r ./tools/register.js tools/plan.ts`.
 * Only `.ts` files are transpiled (tools/transpile.js), so the thousands of JavaScript files of
 * @pulumi/aws load at node's own speed.
 */
const fs = require("node:fs");
const path = require("node:path");
const { createHash } = require("node:crypto");
const { enableCompileCache } = require("node:module");
const { transpile } = require("./transpile");
const { isLazyTarget, rewrite } = require("./lazyPulumi");

// V8's compiled code of every module a tool loads, kept on disk between runs (Node >= 22.1): most
// of a tool's start is compiling @pulumi/pulumi's and @pulumi/aws's JavaScript, which never changes.
// Keyed by each file's content, so a changed file compiles afresh. `.cache/` is not committed.
enableCompileCache?.(path.join(__dirname, "..", ".cache", "node-compile"));

// esbuild's output for each TypeScript file, kept by the digest of its source, its path inside the
// checkout and the transpiler (its code and esbuild's version), so a tool run transpiles only the files that changed
// since the last one. The path is relative so that another checkout of the same files (the diff's
// base worktree, which links this folder) reuses the output; the source map names only the file's
// base name, which resolves next to the file, in whichever checkout runs it.
const CHECKOUT = path.join(__dirname, "..");
const TRANSPILED = path.join(CHECKOUT, ".cache", "transpile");
// The transpiler's code and esbuild's version: either changing makes other output.
const TRANSPILER = Buffer.concat([
  fs.readFileSync(path.join(__dirname, "transpile.js")),
  Buffer.from(`\0esbuild ${require("esbuild/package.json").version}`),
]);

function transpileCached(source, filename) {
  const relative = path.relative(CHECKOUT, filename);
  const key = createHash("sha256").update(TRANSPILER).update(relative).update("\0").update(source).digest("hex");
  const cached = path.join(TRANSPILED, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    const code = transpile(source, filename, path.basename(filename));
    // Written whole, then renamed, so a concurrent run never reads half a file.
    fs.mkdirSync(TRANSPILED, { recursive: true });
    fs.writeFileSync(`${cached}.${process.pid}`, code);
    fs.renameSync(`${cached}.${process.pid}`, cached);
    return code;
  }
}

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  module._compile(transpileCached(fs.readFileSync(filename, "utf8"), filename), filename);
};

// @pulumi/pulumi's index loads the Automation API and function serialization eagerly; the tools'
// programs use neither, so those two files load them on first use (tools/lazyPulumi.js).
const compileJavaScript = require.extensions[".js"];
require.extensions[".js"] = function lazyPulumi(module, filename) {
  if (!isLazyTarget(filename)) return compileJavaScript(module, filename);
  module._compile(rewrite(fs.readFileSync(filename, "utf8"), filename), filename);
};
