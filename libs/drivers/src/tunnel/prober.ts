import { execa, type ResultPromise } from 'execa';
import readline from 'node:readline';
import { PYTHON } from '../linux/announce.js';

/** A tunnel to probe: ICMP echo out of `dev` to its router's tunnel address. */
export interface ProbeTarget {
  dev: string;
  ip: string;
}

/** One verdict or reading of the prober: `up` is null until the first verdict. */
export interface ProbeReport {
  dev: string;
  up: boolean | null;
  rtt_ms: number | null;
}

/**
 * The probe loop, in Python because Node has no raw sockets (Debian's own interpreter, isolated
 * as the gratuitous-ARP sender is). One raw ICMP socket per tunnel, bound to its device: an echo
 * request to each router every interval; a tunnel is down once no answer has arrived for
 * `misses` intervals — time since the last answer, whatever its sequence number, so a round-trip
 * time longer than the interval is no failure — and up again after `misses` answers. Whatever
 * else arrives through a tunnel (its device's received packets) is as good as an answer for
 * keeping it up: a tunnel busy carrying data may queue a probe behind it for longer than the
 * silence allowed, and it is plainly alive. Answers already waiting are read before any verdict,
 * and a loop that was not scheduled in time (a busy host) counts the silence only from when it
 * sent again: its own lateness is no tunnel's fault. It prints a JSON line on each verdict and a
 * reading of every tunnel each second.
 */
const SCRIPT = `
import json, os, select, socket, struct, sys, time
interval, misses = int(sys.argv[1]) / 1000.0, int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
class T: pass
ts = []
start = time.monotonic()
for i in range(3, len(sys.argv), 2):
    t = T()
    t.dev, t.ip = sys.argv[i], sys.argv[i + 1]
    t.raw = socket.inet_aton(t.ip)
    t.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    t.s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, t.dev.encode())
    t.s.setblocking(False)
    t.id = (os.getpid() + i) & 0xFFFF
    t.seq, t.last, t.up, t.ok, t.rtt = 0, start, None, 0, None
    t.rx_file, t.rx = '/sys/class/net/%s/statistics/rx_packets' % t.dev, None
    ts.append(t)
def received(t):
    try:
        with open(t.rx_file) as f:
            rx = int(f.read())
    except (OSError, ValueError):
        return False
    more = t.rx is not None and rx > t.rx
    t.rx = rx
    return more
by_fd = {t.s.fileno(): t for t in ts}
def emit(t):
    print(json.dumps({'dev': t.dev, 'up': t.up, 'rtt_ms': t.rtt}), flush=True)
def answers(t, now):
    while True:
        try:
            d = t.s.recv(2048)
        except BlockingIOError:
            return
        h = (d[0] & 15) * 4
        if len(d) < h + 16 or d[h] != 0 or d[12:16] != t.raw:
            continue
        ident, _, sent = struct.unpack('!HHd', d[h + 4:h + 16])
        if ident != t.id:
            continue
        t.rtt, t.last, t.ok = round((now - sent) * 1000, 3), now, t.ok + 1
        if t.up is not True and t.ok >= misses:
            t.up = True
            emit(t)
next_send = next_read = silent_from = start
while True:
    ready = select.select(list(by_fd), [], [], max(0, min(next_send, next_read) - time.monotonic()))[0]
    now = time.monotonic()
    for fd in ready:
        answers(by_fd[fd], now)
    if now >= next_send:
        if now - next_send > interval:
            silent_from = now
        for t in ts:
            t.seq = (t.seq + 1) & 0xFFFF
            body = struct.pack('!HHd', t.id, t.seq, now)
            pkt = struct.pack('!BBH', 8, 0, csum(struct.pack('!BBH', 8, 0, 0) + body)) + body
            try:
                t.s.sendto(pkt, (t.ip, 0))
            except OSError:
                pass
        next_send = max(next_send + interval, now)
    for t in ts:
        if t.up and received(t):
            t.last = max(t.last, now)
        if t.up is not False and now - max(t.last, silent_from) > misses * interval:
            t.up, t.ok = False, 0
            emit(t)
    if now >= next_read:
        for t in ts:
            emit(t)
        next_read = now + 1
`;

/**
 * The prober process of an endpoint's tunnels, inside the agent's namespace in netns mode.
 * Verdicts are kept by target (device and address): a restart for a changed target list keeps
 * what is known of the unchanged ones, so the tunnel carrying the routes never looks unknown
 * because its neighbour changed.
 */
export class TunnelProber {
  private child?: ResultPromise;
  private args: string[] = [];
  private readonly known = new Map<string, ProbeReport>();

  constructor(
    private readonly netns: string | undefined,
    private readonly onVerdict: (report: ProbeReport) => void,
  ) {}

  /** What is known of a target now. */
  report(t: ProbeTarget): ProbeReport | undefined {
    return this.known.get(`${t.dev} ${t.ip}`);
  }

  probe(targets: ProbeTarget[], intervalMs: number, misses: number): void {
    const args = [String(intervalMs), String(misses), ...targets.flatMap((t) => [t.dev, t.ip])];
    if (this.child && args.join(' ') === this.args.join(' ')) return;
    const wanted = new Set(targets.map((t) => `${t.dev} ${t.ip}`));
    for (const k of this.known.keys()) if (!wanted.has(k)) this.known.delete(k);
    this.args = args;
    this.child?.kill();
    this.child = undefined;
    if (targets.length) this.start();
  }

  stop(): void {
    this.args = [];
    this.child?.kill();
    this.child = undefined;
  }

  private start(): void {
    const argv = [
      ...(this.netns ? ['ip', 'netns', 'exec', this.netns] : []),
      PYTHON,
      '-I',
      '-S',
      '-c',
      SCRIPT,
      ...this.args,
    ];
    const child = execa(argv[0]!, argv.slice(1), { reject: false, stdin: 'ignore' });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let r: ProbeReport;
      try {
        r = JSON.parse(line) as ProbeReport;
      } catch {
        return; // a partial line at exit
      }
      const target = this.args.indexOf(r.dev, 2);
      if (target < 0) return;
      const key = `${r.dev} ${this.args[target + 1]}`;
      const before = this.known.get(key);
      this.known.set(key, before && r.up === null ? { ...before, rtt_ms: r.rtt_ms } : r);
      if (r.up !== null && r.up !== before?.up) this.onVerdict(r);
    });
    // A prober that died is started again with the same targets.
    void child.then(() => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.args.length)
        setTimeout(() => !this.child && this.args.length && this.start(), 500).unref();
    });
    this.child = child;
  }
}
