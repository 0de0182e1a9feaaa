#!/usr/bin/env node
// `npm start`: installs dependencies if needed, builds, then starts NATS, PostgreSQL, every
// service, the gateway and a local node agent (libs/stack).
// child_process, not execa: this runs before dependencies are installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
process.chdir(root);

function run(cmd, args) {
  const res = spawnSync(cmd, args, { stdio: 'inherit' });
  if (res.status !== 0) {
    console.error(`\`${cmd} ${args.join(' ')}\` failed`);
    process.exit(res.status ?? 1);
  }
}

if (!existsSync(path.join(root, 'node_modules'))) {
  console.log('node_modules is missing: installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run('npm', ['run', '--silent', 'build']);

const { runFromCli } = await import('@qnet/stack');
await runFromCli(root);
