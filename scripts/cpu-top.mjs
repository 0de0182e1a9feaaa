#!/usr/bin/env node
// The top frames of V8 CPU profiles (QNET_CPU_PROF_DIR=dir npm run bench writes one per app):
// self time by function and by package, e.g. `node scripts/cpu-top.mjs /tmp/prof/*.cpuprofile`.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/cpu-top.mjs <file.cpuprofile>... [TOP=20]');
  process.exit(2);
}
const top = Number(process.env.TOP ?? 20);

/** Where a frame's code lives: a package, the repository's own code, or node/V8. */
function origin({ url, functionName }) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const own = /\/(apps|libs)\/([^/]+)\//.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return 'node';
  return url || (functionName.startsWith('(') ? functionName : '(native)');
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFrame = new Map();
  const byOrigin = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { callFrame: f } = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    byFrame.set(name, (byFrame.get(name) ?? 0) + us);
    byOrigin.set(origin(f), (byOrigin.get(origin(f)) ?? 0) + us);
  });
  const idle = byFrame.get('(idle) :0') ?? 0;
  const busy = total - idle;
  const rows = (m) =>
    [...m]
      .filter(([k]) => k !== '(idle) :0' && k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([k, us]) =>
          `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${k}`,
      );
  console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms`);
  console.log(' self time by function:');
  console.log(rows(byFrame).join('\n'));
  console.log(' self time by origin:');
  console.log(rows(byOrigin).join('\n'));
}
