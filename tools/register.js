/**
 * Runs the project's TypeScript in plain node: `node -r ./tools/register.js tools/plan.ts`.
 * Only `.ts` files pass through SWC (transpile only; `npm run typecheck` checks types), so the
 * thousands of JavaScript files of @pulumi/aws load at node's own speed.
 */
const fs = require("node:fs");
const { transformSync } = require("@swc/core");

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, "utf8"), {
    filename,
    sourceMaps: "inline",
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
  });
  module._compile(code, filename);
};
