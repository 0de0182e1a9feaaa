import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { Netns } from './netns.js';

const script = (name: string) => fileURLToPath(new URL(`../scripts/${name}`, import.meta.url));

export interface NameServer {
  /** Kills the server (SIGKILL: its connections die with it) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A TCP and UDP server in `ns` that answers with `name` on `port`; resolves once it listens. */
export async function startNameServer(ns: Netns, name: string, port: number): Promise<NameServer> {
  const proc = execa(
    'ip',
    ['netns', 'exec', ns.name, process.execPath, script('name-server.mjs'), name, String(port)],
    {
      reject: false,
      stdin: 'ignore',
    },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    void proc.then((r) => reject(new Error(`name server ${name} exited: ${String(r.stderr)}`)));
  });
  // Not the process itself: a returned ResultPromise would be awaited until the server exits.
  return {
    stop: async () => {
      proc.kill('SIGKILL');
      await proc;
    },
  };
}

async function client(ns: Netns, args: (string | number)[]): Promise<unknown> {
  const r = await execa('ip', [
    'netns',
    'exec',
    ns.name,
    process.execPath,
    script('lb-client.mjs'),
    ...args.map(String),
  ]);
  return JSON.parse(r.stdout);
}

/** `count` TCP connections one after another (sources used in turn); the names that answered. */
export const tcpConnections = (
  ns: Netns,
  host: string,
  port: number,
  count: number,
  sources: string[] = [],
) => client(ns, ['tcp', host, port, count, ...sources]) as Promise<string[]>;

/** `count` UDP requests, each from a new socket. */
export const udpRequests = (ns: Netns, host: string, port: number, count: number) =>
  client(ns, ['udp', host, port, count]) as Promise<string[]>;

/**
 * A connection every `everyMs` for `forMs`: when each started and ended (a SYN retransmitted
 * after a failover can succeed long after it started), and the name or ERR:….
 */
export const connectionLoop = (
  ns: Netns,
  host: string,
  port: number,
  forMs: number,
  everyMs: number,
) => client(ns, ['loop', host, port, forMs, everyMs]) as Promise<[number, number, string][]>;

/** `count` connections held open until `release()`; `names` says where they landed. */
export async function holdConnections(ns: Netns, host: string, port: number, count: number) {
  const proc = execa(
    'ip',
    [
      'netns',
      'exec',
      ns.name,
      process.execPath,
      script('lb-client.mjs'),
      'hold',
      host,
      String(port),
      String(count),
    ],
    {
      reject: false,
      stdin: 'pipe',
    },
  );
  const names = await new Promise<string[]>((resolve) =>
    proc.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as string[])),
  );
  return {
    names,
    release: async () => {
      proc.stdin!.end();
      await proc;
    },
  };
}

/** How often each name occurs. */
export function tally(names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}
