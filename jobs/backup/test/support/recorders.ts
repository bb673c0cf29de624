import type { LogFields, Logger } from "../../src/log";
import type { Metric, MetricsPublisher } from "../../src/metrics";

export interface LogLine {
  level: "info" | "warn" | "error";
  message: string;
  fields: LogFields;
}

/** A logger that keeps every line for assertions instead of printing it. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];

  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: "info", message, fields });
  }

  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: "warn", message, fields });
  }

  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: "error", message, fields });
  }

  errors(): string[] {
    return this.lines.filter((l) => l.level === "error").map((l) => l.message);
  }
}

export interface Publication {
  database: string;
  metrics: Metric[];
  at: Date;
}

/** Stands in for CloudWatch: records what would have been published. */
export class RecordingPublisher implements MetricsPublisher {
  readonly publications: Publication[] = [];

  publish(database: string, metrics: readonly Metric[], at: Date): Promise<void> {
    this.publications.push({ database, metrics: [...metrics], at });
    return Promise.resolve();
  }
}

/** A clock that starts at `start` and moves one second forward on every reading. */
export function steppingClock(start: string): () => Date {
  let next = Date.parse(start);
  return () => {
    const now = new Date(next);
    next += 1000;
    return now;
  };
}
