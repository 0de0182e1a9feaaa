// What each test tier needs from the machine. Returns the list of what is missing.
import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Whether an executable of that name is on PATH (looked up here, not through a shell). */
function has(cmd) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => canRun(path.join(dir, cmd)));
}

function canRun(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1500 }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
    s.on('timeout', () => (s.destroy(), resolve(false)));
  });
}

export async function checkPrerequisites(tier) {
  const missing = [];
  if (tier === 'unit') return missing;
  if (!has('nats-server')) missing.push('nats-server is not on PATH (apt-get install nats-server)');
  const pg = new URL(
    process.env.QNET_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  );
  if (!(await reachable(pg.hostname, Number(pg.port || 5432)))) {
    missing.push(
      `PostgreSQL does not answer at ${pg.hostname}:${pg.port || 5432} (set QNET_TEST_DATABASE_URL)`,
    );
  }
  if (tier === 'dataplane') {
    if (process.getuid?.() !== 0)
      missing.push('data-plane tests need root to create network namespaces');
    if (!has('ping')) missing.push('ping is missing (apt-get install iputils-ping)');
    if (!has('ip')) missing.push('ip(8) is missing (apt-get install iproute2)');
    if (!has('tcpdump')) missing.push('tcpdump is missing (apt-get install tcpdump)');
    if (!canRun('/usr/bin/python3'))
      missing.push('/usr/bin/python3 is missing (apt-get install python3-minimal)');
    else if ((await execa('ip', ['netns', 'list'], { reject: false })).exitCode !== 0) {
      missing.push('network namespaces are not available');
    }
  }
  if (tier === 'system' && !canRun('/usr/bin/chromium'))
    missing.push('the console tests drive /usr/bin/chromium (apt-get install chromium)');
  return missing;
}
