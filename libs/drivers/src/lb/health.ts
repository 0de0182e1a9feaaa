import { execa, type ResultPromise } from 'execa';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LbSpec, MemberHealth } from '@qnet/contracts';
import type { ProbeResult, ProbeTarget } from './probe-worker.js';

interface Tracked {
  target: ProbeTarget;
  unhealthyThreshold: number;
  healthyThreshold: number;
  health: MemberHealth;
  successes: number;
  failures: number;
}

/** Health-check targets of a spec: one per enabled member of each LB that has a health check. */
export function probeTargets(spec: LbSpec): Omit<Tracked, 'health' | 'successes' | 'failures'>[] {
  return spec.load_balancers.flatMap((lb) => {
    const hc = lb.health_check;
    if (!hc) return [];
    return lb.members.map((m) => ({
      target: {
        key: m.id,
        protocol: hc.protocol,
        address: m.address,
        port: hc.port ?? m.port,
        interval_ms: hc.interval_sec * 1000,
        timeout_ms: hc.timeout_sec * 1000,
      },
      unhealthyThreshold: hc.unhealthy_threshold,
      healthyThreshold: hc.healthy_threshold,
    }));
  });
}

/**
 * Member health from probe results: OFFLINE after `unhealthy_threshold` consecutive failures,
 * ONLINE after `healthy_threshold` consecutive successes, UNKNOWN (still taking traffic) before
 * either. Pure bookkeeping; the probes themselves run in a ProbeWorker.
 */
export class HealthBook {
  private tracked = new Map<string, Tracked>();

  /** Keeps what is known of members whose check did not change; forgets removed ones. */
  setTargets(targets: ReturnType<typeof probeTargets>): ProbeTarget[] {
    const next = new Map<string, Tracked>();
    for (const t of targets) {
      const old = this.tracked.get(t.target.key);
      const same = old && JSON.stringify(old.target) === JSON.stringify(t.target);
      next.set(
        t.target.key,
        same ? { ...old, ...t } : { ...t, health: 'UNKNOWN', successes: 0, failures: 0 },
      );
    }
    this.tracked = next;
    return [...next.values()].map((t) => t.target);
  }

  /** Records one probe; true when the member's health changed. */
  record(r: ProbeResult): boolean {
    const t = this.tracked.get(r.key);
    if (!t) return false;
    if (r.ok) {
      t.successes++;
      t.failures = 0;
    } else {
      t.failures++;
      t.successes = 0;
    }
    const before = t.health;
    if (t.failures >= t.unhealthyThreshold) t.health = 'OFFLINE';
    else if (t.successes >= t.healthyThreshold) t.health = 'ONLINE';
    return t.health !== before;
  }

  health(): Map<string, MemberHealth> {
    return new Map([...this.tracked].map(([k, t]) => [k, t.health]));
  }

  get size(): number {
    return this.tracked.size;
  }
}

const WORKER = fileURLToPath(new URL('./probe-worker.js', import.meta.url));

/** The probe-worker process, inside the agent's namespace in netns mode; started when needed. */
export class ProbeWorker {
  private child?: ResultPromise;
  private targets: ProbeTarget[] = [];

  constructor(
    private readonly netns: string | undefined,
    private readonly onResult: (r: ProbeResult) => void,
  ) {}

  /** Gives the worker its targets; the same list again changes nothing (no probe restarts). */
  send(targets: ProbeTarget[]): void {
    if (this.child && JSON.stringify(targets) === JSON.stringify(this.targets)) return;
    this.targets = targets;
    if (!targets.length) return this.stop();
    if (!this.child) this.start();
    this.child!.stdin!.write(JSON.stringify(targets) + '\n');
  }

  stop(): void {
    this.targets = [];
    this.child?.kill();
    this.child = undefined;
  }

  private start(): void {
    const argv = [
      ...(this.netns ? ['ip', 'netns', 'exec', this.netns] : []),
      process.execPath,
      WORKER,
    ];
    const child = execa(argv[0]!, argv.slice(1), { reject: false, stdin: 'pipe', stdout: 'pipe' });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.onResult(JSON.parse(line) as ProbeResult);
      } catch {
        /* a partial line at exit */
      }
    });
    // A worker that died is started again with the same targets.
    void child.then(() => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.targets.length) setTimeout(() => this.send(this.targets), 1000).unref();
    });
    this.child = child;
  }
}
