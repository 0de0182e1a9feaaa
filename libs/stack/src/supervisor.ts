import type { AppProcess } from './processes.js';

export interface SupervisorOptions {
  /** Where restarts are reported (the console under npm start). */
  log: (line: string) => void;
  /** First delay before a restart; doubled per crash in a row, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A process that ran this long before exiting starts again from the first delay. */
  stableMs?: number;
}

export interface Supervisor {
  /** Stops restarting (before the stack is stopped). */
  stop(): void;
  /** Restarts so far, per app name. */
  restarts: Map<string, number>;
}

/**
 * Keeps every app of `apps` running: an app that exits is started again after a delay that grows
 * while it keeps crashing. The array is updated in place, so whoever stops the stack stops the
 * processes running then.
 */
export function supervise(apps: AppProcess[], o: SupervisorOptions): Supervisor {
  const backoff = o.backoffMs ?? 1_000;
  const maxBackoff = o.maxBackoffMs ?? 30_000;
  const stable = o.stableMs ?? 30_000;
  let stopped = false;
  const restarts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();

  const watch = (index: number, startedAt: number, delay: number) => {
    const app = apps[index]!;
    void app.exited.then((code) => {
      if (stopped) return;
      const next = Date.now() - startedAt >= stable ? backoff : delay;
      const count = (restarts.get(app.name) ?? 0) + 1;
      restarts.set(app.name, count);
      o.log(
        `${app.name} exited with code ${code}; restarting it in ${next / 1000} s (restart ${count}, see its log)`,
      );
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (stopped) return;
        apps[index] = app.respawn();
        watch(index, Date.now(), Math.min(next * 2, maxBackoff));
      }, next);
      timers.add(timer);
    });
  };
  apps.forEach((_, i) => watch(i, Date.now(), backoff));
  return {
    restarts,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
