/**
 * The agent's health prober, a process of its own so that in netns mode it runs inside the host's
 * namespace (`ip netns exec <ns> node probe-worker.js`) and probes from where the traffic flows.
 * stdin: one JSON line per target list (replacing the previous); stdout: one JSON line per probe.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ProbeTarget {
  key: string;
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
  interval_ms: number;
  timeout_ms: number;
}

export interface ProbeResult {
  key: string;
  ok: boolean;
  error?: string;
}

/** TCP: the three-way handshake completes within the timeout. */
function probeTcp(t: ProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.address, port: t.port });
    const done = (ok: boolean, error?: string) => {
      socket.destroy();
      resolve({ key: t.key, ok, ...(error ? { error } : {}) });
    };
    socket.setTimeout(t.timeout_ms, () => done(false, `no answer within ${t.timeout_ms} ms`));
    socket.once('connect', () => done(true));
    socket.once('error', (err) => done(false, err.message));
  });
}

/**
 * UDP (Octavia's UDP-CONNECT): a datagram is sent; an ICMP port unreachable (ECONNREFUSED on the
 * connected socket) fails the check, a reply or silence within the timeout passes it.
 */
function probeUdp(t: ProbeTarget): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(t.address.includes(':') ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean, error?: string) => {
      clearTimeout(timer);
      socket.close();
      resolve({ key: t.key, ok, ...(error ? { error } : {}) });
    };
    socket.once('error', (err) => done(false, err.message));
    socket.once('message', () => done(true));
    socket.connect(t.port, t.address, () => {
      socket.send(Buffer.from('qnet-health\n'));
      timer = setTimeout(() => done(true), t.timeout_ms);
    });
  });
}

const timers = new Map<string, NodeJS.Timeout>();

function schedule(targets: ProbeTarget[]): void {
  for (const t of timers.values()) clearInterval(t);
  timers.clear();
  for (const t of targets) {
    const run = () =>
      void (t.protocol === 'TCP' ? probeTcp(t) : probeUdp(t)).then((r) =>
        process.stdout.write(JSON.stringify(r) + '\n'),
      );
    run();
    timers.set(t.key, setInterval(run, t.interval_ms));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    schedule(JSON.parse(line) as ProbeTarget[]);
  });
  process.stdin.on('end', () => process.exit(0));
}
