/**
 * Loads the parts of @pulumi/pulumi that a program declaring resources never uses only when
 * something asks for them: `pulumi.automation` (the Automation API, which loads npm's arborist and
 * pacote) and `pulumi.runtime.serializeFunction` / `computeCodePaths` (function serialization, which
 * loads the TypeScript compiler). Loading both was most of the time a test file and the offline
 * plan spent before running any of the program. Used by jest (as the transformer of the two files
 * below) and by the command-line tools (tools/register.js). `@pulumi/pulumi/automation` required
 * directly, as `opsbook` does, is untouched.
 *
 * The rewrite matches the published files' exact text and fails loudly when it does not match (an
 * upgraded @pulumi/pulumi that changed them), rather than silently loading everything again.
 */
const path = require("node:path");

const PULUMI = path.dirname(require.resolve("@pulumi/pulumi/package.json"));

/** File -> [eager text, the same exports as getters that require on first use]. */
const REWRITES = {
  [path.join(PULUMI, "index.js")]: [
    [
      'const automation = __importStar(require("./automation"));\nexports.automation = automation;\n',
      'Object.defineProperty(exports, "automation", { enumerable: true, get: () => __importStar(require("./automation")) });\n',
    ],
  ],
  [path.join(PULUMI, "runtime", "index.js")]: [
    [
      'var serializeClosure_1 = require("./closure/serializeClosure");\n' +
        "exports.serializeFunctionAsync = serializeClosure_1.serializeFunctionAsync;\n" +
        "exports.serializeFunction = serializeClosure_1.serializeFunction;\n" +
        'var codePaths_1 = require("./closure/codePaths");\n' +
        "exports.computeCodePaths = codePaths_1.computeCodePaths;\n",
      'Object.defineProperty(exports, "serializeFunctionAsync", { enumerable: true, get: () => require("./closure/serializeClosure").serializeFunctionAsync });\n' +
        'Object.defineProperty(exports, "serializeFunction", { enumerable: true, get: () => require("./closure/serializeClosure").serializeFunction });\n' +
        'Object.defineProperty(exports, "computeCodePaths", { enumerable: true, get: () => require("./closure/codePaths").computeCodePaths });\n',
    ],
  ],
};

/** True for the files `rewrite` changes. */
function isLazyTarget(filename) {
  return Object.prototype.hasOwnProperty.call(REWRITES, filename);
}

/** @param {string} source @param {string} filename */
function rewrite(source, filename) {
  let code = source.replace(/\r\n/g, "\n");
  for (const [eager, lazy] of REWRITES[filename] ?? []) {
    if (!code.includes(eager)) {
      throw new Error(
        `tools/lazyPulumi.js: ${filename} no longer contains the text it rewrites (was @pulumi/pulumi upgraded?): ` +
          `update REWRITES there to the new text, or remove the entry.\nExpected:\n${eager}`,
      );
    }
    code = code.replace(eager, lazy);
  }
  return code;
}

module.exports = {
  PULUMI,
  REWRITES,
  isLazyTarget,
  rewrite,
  /** Jest transformer interface (jest.config.js transforms only the REWRITES files with it). */
  process(source, filename) {
    return { code: rewrite(source, filename) };
  },
};
