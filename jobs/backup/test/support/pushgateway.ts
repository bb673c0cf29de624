/**
 * A local stand-in for the Prometheus Pushgateway that speaks its push protocol: PUT and POST of
 * the text exposition format to `/metrics/job/<job>{/<label>/<value>}`, PUT replacing the whole
 * group and POST only the metrics of the names it carries, DELETE of a group, and GET /metrics
 * with the grouping labels on every sample. Malformed bodies get 400, as from the real one.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface PushRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

export interface TestPushgateway {
  url: string;
  /** Every request, in order. */
  requests: PushRequest[];
  /** The samples of one group, by metric name. */
  group(labels: Record<string, string>): Record<string, number> | undefined;
  /** GET /metrics as Prometheus would scrape it. */
  scrape(): Promise<string>;
  stop(): Promise<void>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\d+)?$/;
const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/;

/** Parses an exposition body; throws on a line the format does not allow. */
function parseBody(body: string): Record<string, number> {
  const samples: Record<string, number> = {};
  for (const line of body.split("\n")) {
    if (line === "" || (line.startsWith("#") && !line.startsWith("# TYPE"))) continue;
    if (line.startsWith("# TYPE")) {
      if (!TYPE.test(line)) throw new Error(`bad TYPE line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    const value = m ? Number(m[3]) : NaN;
    if (!m || Number.isNaN(value)) throw new Error(`bad sample line: ${line}`);
    samples[m[1]!] = value;
  }
  if (!body.endsWith("\n")) throw new Error("the body must end with a line feed");
  return samples;
}

/** `/metrics/job/<job>/<label>/<value>...` -> the grouping labels, or undefined. */
function groupingKey(path: string): Record<string, string> | undefined {
  const parts = path.split("/").slice(1);
  if (parts[0] !== "metrics" || parts[1] !== "job" || parts.length < 3 || parts.length % 2 !== 1) return undefined;
  const labels: Record<string, string> = {};
  for (let i = 1; i < parts.length; i += 2) labels[parts[i]!] = decodeURIComponent(parts[i + 1]!);
  return labels;
}

const keyOf = (labels: Record<string, string>): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });

export async function startTestPushgateway(): Promise<TestPushgateway> {
  const groups = new Map<string, { labels: Record<string, string>; samples: Record<string, number> }>();
  const requests: PushRequest[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const path = (req.url ?? "/").split("?")[0]!;
      const method = req.method ?? "GET";
      requests.push({ method, path, contentType: req.headers["content-type"], body });
      if (method === "GET" && path === "/metrics") {
        const lines = [...groups.values()].flatMap(({ labels, samples }) => {
          const l = Object.entries(labels)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `${k}="${v}"`)
            .join(",");
          return Object.entries(samples).map(([name, value]) => `${name}{${l}} ${value}`);
        });
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }).end(lines.join("\n") + "\n");
        return;
      }
      const labels = groupingKey(path);
      if (labels === undefined) return void res.writeHead(404).end("not a push path\n");
      const key = keyOf(labels);
      if (method === "DELETE") {
        groups.delete(key);
        return void res.writeHead(202).end();
      }
      if (method !== "PUT" && method !== "POST") return void res.writeHead(405).end();
      let samples: Record<string, number>;
      try {
        samples = parseBody(body);
      } catch (error) {
        return void res.writeHead(400).end(`${(error as Error).message}\n`);
      }
      const before = method === "POST" ? (groups.get(key)?.samples ?? {}) : {};
      groups.set(key, { labels, samples: { ...before, ...samples } });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    group: (labels) => groups.get(keyOf(labels))?.samples,
    scrape: async () => (await fetch(`${url}/metrics`)).text(),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
