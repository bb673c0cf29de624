/**
 * TypeScript to CommonJS, transpile only (types are checked by `npm run typecheck`), with esbuild.
 * Shared by jest (as its transformer) and by the command-line tools (as a require hook).
 */
const { transformSync } = require("esbuild");

/**
 * @param {string} source
 * @param {string} filename
 * @param {string} [sourcefile] the name the inline source map gives the source (default: filename)
 */
function transpile(source, filename, sourcefile = filename) {
  return transformSync(source, {
    loader: "ts",
    format: "cjs",
    target: "node20",
    sourcefile,
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
