/**
 * The CPU and memory sizes Fargate accepts for a Linux task, as AWS documents them
 * ("Task size" in the ECS developer guide). Any other pair fails at deploy time, so the stack
 * config rejects it up front.
 */
const SIZES: ReadonlyArray<{ cpu: number; from: number; to: number; step: number; extra?: number[] }> = [
  { cpu: 256, from: 1024, to: 2048, step: 1024, extra: [512] },
  { cpu: 512, from: 1024, to: 4096, step: 1024 },
  { cpu: 1024, from: 2048, to: 8192, step: 1024 },
  { cpu: 2048, from: 4096, to: 16384, step: 1024 },
  { cpu: 4096, from: 8192, to: 30720, step: 1024 },
  { cpu: 8192, from: 16384, to: 61440, step: 4096 },
  { cpu: 16384, from: 32768, to: 122880, step: 8192 },
];

/** CPU units Fargate accepts (1024 = one vCPU). */
export const FARGATE_CPU_UNITS: readonly number[] = SIZES.map((s) => s.cpu);

/** Memory sizes in MiB that Fargate accepts with `cpu` units, ascending; empty if `cpu` is not legal. */
export function fargateMemoryChoices(cpu: number): number[] {
  const size = SIZES.find((s) => s.cpu === cpu);
  if (!size) return [];
  const choices = [...(size.extra ?? [])];
  for (let m = size.from; m <= size.to; m += size.step) choices.push(m);
  return choices;
}

/** True when Fargate runs a task of `cpu` units with `memory` MiB. */
export function isFargateSize(cpu: number, memory: number): boolean {
  return fargateMemoryChoices(cpu).includes(memory);
}

/** "1024, 2048, 3072 or 4096" - the memory sizes to offer in an error message. */
export function describeFargateMemory(cpu: number): string {
  const choices = fargateMemoryChoices(cpu);
  if (choices.length <= 6) return choices.join(", ");
  const step = choices[choices.length - 1]! - choices[choices.length - 2]! || 1;
  return `${choices[0]} to ${choices[choices.length - 1]} in steps of ${step}`;
}
