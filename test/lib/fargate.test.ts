import { describeFargateMemory, fargateMemoryChoices, isFargateSize } from "../../lib/fargate";

describe("Fargate task sizes", () => {
  test.each([
    [256, 512, true],
    [256, 2048, true],
    [256, 4096, false],
    [512, 1024, true],
    [512, 512, false],
    [1024, 8192, true],
    [4096, 30720, true],
    [4096, 31744, false],
    [8192, 20480, true],
    [8192, 18432, false], // 8 vCPU takes 4 GiB steps
    [16384, 122880, true],
    [300, 1024, false],
  ])("cpu %d with %d MiB -> %s", (cpu, memory, legal) => {
    expect(isFargateSize(cpu, memory)).toBe(legal);
  });

  test("lists the choices for 256 CPU units", () => {
    expect(fargateMemoryChoices(256)).toEqual([512, 1024, 2048]);
    expect(describeFargateMemory(256)).toBe("512, 1024, 2048");
  });

  test("describes long ranges by their steps", () => {
    expect(describeFargateMemory(2048)).toBe("4096 to 16384 in steps of 1024");
  });
});
