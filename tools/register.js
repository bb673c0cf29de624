/**
 * Runs the project's TypeScript in plain node: `node -r ./tools/register.js tools/plan.ts`.
 * Only `.ts` files are transpiled (tools/transpile.js), so the thousands of JavaScript files of
 * @pulumi/aws load at node's own speed.
 */
const fs = require("node:fs");
const { transpile } = require("./transpile");

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};
