/**
 * `npm run policy -- --stack <name>` or `-- --plan <plan.json>`: the policy pack over the offline
 * plan, as `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json`
 * would apply it. See tools/policy/cli.ts.
 */
import { runCli } from "./policy/cli";
import { exitWhenFlushed } from "./exit";

runCli(process.argv.slice(2)).then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(2);
  },
);
