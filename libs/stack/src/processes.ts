import { execa, type Subprocess } from 'execa';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from './nats-server.js';

export interface AppProcess {
  name: string;
  child: Subprocess;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
  /** Starts the same app again (same environment and log file): for the supervisor. */
  respawn(): AppProcess;
}

/** Framework chatter that says nothing a person starting the stack needs to read. */
const QUIET_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestMicroservice',
  'NestApplication',
]);
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** One compact console line from a JSON log line, or undefined to keep it only in the log file. */
export function consoleLine(name: string, line: string): string | undefined {
  let rec: {
    level?: number;
    msg?: string;
    context?: string;
    time?: string;
    err?: { message?: string };
    path?: string;
  };
  try {
    rec = JSON.parse(line);
  } catch {
    return `${name.padEnd(18)} ${line}`;
  }
  const level = rec.level ?? 30;
  if (
    level < 40 &&
    (QUIET_CONTEXTS.has(rec.context ?? '') || rec.msg === 'http' || rec.msg === 'starting')
  )
    return undefined;
  const time = (rec.time ?? '').slice(11, 19);
  const err = rec.err?.message ? `: ${rec.err.message}` : '';
  return `${time} ${name.padEnd(18)} ${LEVELS[level] ?? level} ${rec.msg ?? ''}${err}`;
}

export interface SpawnOptions {
  name: string;
  script: string;
  env: Record<string, string | undefined>;
  logDir: string;
  /** Print compact lines to the console (npm start) or keep everything in files (tests, bench). */
  console: boolean;
}

/** With QNET_CPU_PROF_DIR set, each app writes a V8 CPU profile there when it exits. */
function profiling(o: SpawnOptions): string[] {
  const dir = o.env.QNET_CPU_PROF_DIR ?? process.env.QNET_CPU_PROF_DIR;
  return dir
    ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${o.name}.${Date.now()}.cpuprofile`]
    : [];
}

export function spawnApp(o: SpawnOptions): AppProcess {
  mkdirSync(o.logDir, { recursive: true });
  const file: WriteStream = createWriteStream(path.join(o.logDir, `${o.name}.log`), { flags: 'a' });
  const child: Subprocess = execa(process.execPath, [...profiling(o), o.script], {
    env: o.env,
    stdin: 'ignore',
    buffer: false,
    reject: false,
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      file.write(`${line}\n`);
      if (o.console) {
        const out = consoleLine(o.name, line);
        if (out) process.stdout.write(`${out}\n`);
      }
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      file.end();
      resolve(code);
    }),
  );
  return {
    name: o.name,
    child,
    exited,
    stop: (graceMs = 15_000) => stopChild(child, graceMs),
    respawn: () => spawnApp(o),
  };
}
