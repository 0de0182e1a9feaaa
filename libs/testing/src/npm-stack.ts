import { execa, type Subprocess } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@qnet/stack';
import { REPO_ROOT } from './cluster.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * The product started exactly as the README starts it (`npm start`), on free ports, its own test
 * database and state directory, with a dry-run local agent; a process group of its own.
 */
export class NpmStack {
  output = '';

  private constructor(
    readonly proc: Subprocess,
    readonly db: TestDatabase,
    readonly stateDir: string,
    readonly base: string,
    readonly devicePort: number,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<NpmStack> {
    const db = await createTestDatabase();
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'qnet-system-'));
    const port = await freePort();
    const devicePort = await freePort();
    const proc = execa('npm', ['start'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        GATEWAY_PORT: String(port),
        // Free ports, so that this stack never collides with another on 8081/8090.
        DEVICE_HTTP_PORT: String(devicePort),
        TUNNEL_HTTP_PORT: String(await freePort()),
        DATABASE_URL: db.url,
        QNET_STATE_DIR: stateDir,
        AGENT_MODE: 'dry-run',
        ...env,
      },
      stdin: 'ignore',
      detached: true,
      buffer: false,
      reject: false,
    });
    const stack = new NpmStack(proc, db, stateDir, `http://127.0.0.1:${port}`, devicePort);
    proc.stdout!.on('data', (d: Buffer) => (stack.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stack.output += d.toString()));
    return stack;
  }

  /** Until /ready answers 200. */
  ready(timeoutMs = 60_000): Promise<void> {
    return waitFor(
      async () => (await fetch(`${this.base}/ready`).catch(() => undefined))?.status === 200,
      timeoutMs,
      '/ready',
      250,
    );
  }

  /**
   * Stops it as a terminal's Ctrl-C would (the stack drains and stops its own NATS, which runs in a
   * process group of its own), then kills whatever is left; drops the database and state.
   */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.running()) {
      this.signal('SIGINT');
      await Promise.race([this.proc, new Promise((r) => setTimeout(r, graceMs))]);
      if (this.running()) this.signal('SIGKILL');
    }
    await this.db.drop();
    rmSync(this.stateDir, { recursive: true, force: true });
  }

  private running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.proc.pid!, sig);
    } catch {
      /* already gone */
    }
  }
}
