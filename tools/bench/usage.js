/**
 * Preloaded by `npm run bench` into each measured process: at exit, writes the process's own peak
 * resident memory (`process.resourceUsage().maxRSS`, KiB) to the file named by OPSBOOK_BENCH_USAGE.
 */
const fs = require("node:fs");

const file = process.env.OPSBOOK_BENCH_USAGE;
if (file) {
  process.on("exit", () => {
    fs.writeFileSync(file, JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }));
  });
}
