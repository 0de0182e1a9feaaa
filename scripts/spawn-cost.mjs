#!/usr/bin/env node
// What starting a process costs a node process of a given resident size: libuv (1.46 in Node 20)
// starts one with fork(), whose cost grows with the parent's memory, and spawn() holds the event
// loop meanwhile. `node scripts/spawn-cost.mjs [MB ...]` prints, for each size, how long starting
// `true` through execa (as the agent's executor does) blocks, and its start to exit, over 50.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const [mbArg] = process.argv.slice(2);
if (process.env.QNET_SPAWN_COST_CHILD) {
  const held = [];
  for (let i = 0; i < Number(mbArg); i++) held.push(Buffer.alloc(1 << 20, 1));
  const start = () => execa('true', { reject: false });
  for (let i = 0; i < 5; i++) await start();
  const n = 50;
  let blocked = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const exited = start();
    blocked += performance.now() - t;
    await exited;
  }
  const rss = Math.round(process.memoryUsage().rss / 1e6);
  const each = (performance.now() - t0) / n;
  console.log(
    `RSS ${rss} MB: starting blocks ${(blocked / n).toFixed(2)} ms, start to exit ${each.toFixed(2)} ms (held ${held.length} MB)`,
  );
} else {
  const sizes = process.argv.length > 2 ? process.argv.slice(2) : ['0', '100', '400'];
  for (const mb of sizes) {
    const { stdout } = await execa(process.execPath, [fileURLToPath(import.meta.url), mb], {
      env: { QNET_SPAWN_COST_CHILD: '1' },
    });
    console.log(stdout);
  }
}
