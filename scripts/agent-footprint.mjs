#!/usr/bin/env node
// What makes a node agent's resident memory: RSS and V8 heap of a fresh node process after it
// imported what the agent imports, step by step (after GC), and with the V8 flags that trim it.
// Needs the build: `npm run build && node scripts/agent-footprint.mjs`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const agentDir = path.join(root, 'apps/node-agent');
const agentModule = path.join(agentDir, 'dist/agent.module.js');

async function footprint(modules, flags = []) {
  const code = `for (const m of ${JSON.stringify(modules)}) await import(m);
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); }
    const u = process.memoryUsage(); console.log(JSON.stringify({ rss: u.rss, heap: u.heapUsed }));`;
  // Run from the agent's directory, so packages resolve as they do for it.
  const { stdout } = await execa(
    process.execPath,
    [...flags, '--expose-gc', '--input-type=module', '-e', code],
    { cwd: agentDir },
  );
  const u = JSON.parse(stdout.trim().split('\n').pop());
  return `RSS ${(u.rss / 2 ** 20).toFixed(1)} MB, V8 heap used ${(u.heap / 2 ** 20).toFixed(1)} MB`;
}

const steps = [
  ['node alone', []],
  ['rxjs alone', ['rxjs']],
  [
    'class-validator + class-transformer alone',
    ['reflect-metadata', 'class-validator', 'class-transformer'],
  ],
  ['@nestjs/common alone', ['reflect-metadata', '@nestjs/common']],
  [
    '@nestjs/core + @nestjs/microservices',
    ['reflect-metadata', '@nestjs/core', '@nestjs/microservices'],
  ],
  [
    '+ NATS clients',
    [
      'reflect-metadata',
      '@nestjs/core',
      '@nestjs/microservices',
      '@nats-io/transport-node',
      '@nats-io/jetstream',
    ],
  ],
  ['everything the agent imports (its module)', ['reflect-metadata', agentModule]],
];
for (const [label, modules] of steps) console.log(`${label}: ${await footprint(modules)}`);
const all = ['reflect-metadata', agentModule];
console.log(
  `its module, --max-semi-space-size=1: ${await footprint(all, ['--max-semi-space-size=1'])}`,
);
console.log(`its module, --jitless: ${await footprint(all, ['--jitless'])}`);
