/**
 * Step-by-step progress on stderr: each step's number, name and elapsed time, so a person (or a CI
 * log) sees where a deploy is and how long each part took. Results go to stdout, apart from it.
 */

export interface StepRecord {
  step: number;
  name: string;
  status: "done" | "failed" | "skipped";
  seconds: number;
  detail?: string;
}

export class Progress {
  readonly steps: StepRecord[] = [];
  private readonly started: number;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Seconds since the command started. */
  elapsed(): number {
    return (this.now() - this.started) / 1000;
  }

  /** A line of detail under the current step (Pulumi's output, a wait). */
  log(text: string): void {
    for (const line of text.split("\n")) if (line.trim() !== "") this.write(`      ${line}\n`);
  }

  /** Runs one step: prints its start, then done or failed with the time it took. */
  async step<T>(name: string, run: () => Promise<T>, detail?: (result: T) => string | undefined): Promise<T> {
    const step = this.steps.length + 1;
    const begin = this.now();
    this.write(`[${step}] ${name} ...\n`);
    try {
      const result = await run();
      const seconds = (this.now() - begin) / 1000;
      const info = detail?.(result);
      this.steps.push({ step, name, status: "done", seconds, ...(info ? { detail: info } : {}) });
      this.write(
        `[${step}] ${name}: done in ${fmt(seconds)} (${fmt(this.elapsed())} in all)${info ? `: ${info}` : ""}\n`,
      );
      return result;
    } catch (e) {
      const seconds = (this.now() - begin) / 1000;
      this.steps.push({ step, name, status: "failed", seconds });
      this.write(`[${step}] ${name}: FAILED after ${fmt(seconds)}\n`);
      throw e;
    }
  }

  /** Records a step that is not taken (a dry run, a step the stack does not need). */
  skip(name: string, why: string): void {
    const step = this.steps.length + 1;
    this.steps.push({ step, name, status: "skipped", seconds: 0, detail: why });
    this.write(`[${step}] ${name}: skipped (${why})\n`);
  }
}

/** 0.4 s, 12.0 s, 3 min 05 s */
export function fmt(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${String(Math.round(seconds - m * 60)).padStart(2, "0")} s`;
}
