import { PROTECTED_TYPES, STATEFUL, type StatefulTypeToken } from "../../lib/stateful";
import { statefulResourceProtected } from "../../policy/rules/stack";
import { violations } from "../../policy/tests/helpers";
import { STATEFUL_TYPES as PROTECTED_IN_STACK_TESTS } from "../helpers/stack";
import { risksOf } from "../tools/diff/builders";

const TYPES = Object.keys(STATEFUL) as StatefulTypeToken[];

describe("the stateful table, as each caller reads it", () => {
  test("the risk diff reports deleting any stateful type, by its noun", () => {
    for (const type of TYPES)
      expect([type, risksOf(type, {}, undefined)]).toEqual([
        type,
        [["stateful-deleted", `${STATEFUL[type].noun} deleted`]],
      ]);
  });

  test("the policy asks protect of exactly the protected types, naming each by its kind", async () => {
    for (const type of TYPES) {
      const found = await violations(statefulResourceProtected, type, {}, { name: "r" });
      expect([type, found.length, found[0]?.startsWith(`${STATEFUL[type].kind} "r": `)]).toEqual(
        STATEFUL[type].protect ? [type, 1, true] : [type, 0, undefined],
      );
    }
  });

  test("the stack tests expect protect on the same types", () => {
    expect([...PROTECTED_IN_STACK_TESTS]).toEqual([...PROTECTED_TYPES]);
  });

  test("log groups are reported by the diff but need no protect; image repositories need it", () => {
    expect(TYPES.filter((type) => !STATEFUL[type].protect)).toEqual(["aws:cloudwatch/logGroup:LogGroup"]);
    expect(STATEFUL["aws:ecr/repository:Repository"].protect).toBe(true);
  });
});
