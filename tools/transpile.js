/**
 * TypeScript to CommonJS, transpile only (types are checked by `npm run typecheck`), with esbuild.
 * Shared by jest (as its transformer) and by the command-line tools (as a require hook).
 */
const { transformSync } = require("esbuild");

/** @param {string} source @param {string} filename */
function transpile(source, filename) {
  return transformSync(source, {
    loader: "ts",
    format: "cjs",
    target: "node20",
    sourcefile: filename,
    sourcemap: "inline",
  }).code;
}

module.exports = {
  transpile,
  /** Jest transformer interface. */
  process(source, filename) {
    return { code: transpile(source, filename) };
  },
};
