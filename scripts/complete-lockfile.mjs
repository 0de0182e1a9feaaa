#!/usr/bin/env node
// The npm registry mirror this project's machines use does not carry other platforms' native
// binaries (darwin, win32, musl builds of swc, nx, buf, …), so `npm install` leaves them out of
// package-lock.json and `npm ci` then refuses the lockfile as out of sync. This adds each missing
// optional platform package as a stub entry with the os/cpu/libc its name states: npm skips it
// on platforms it does not match and fetches it by version where it does.
// Run after changing dependencies: npm install && node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'win32', 'linux', 'freebsd', 'android', 'openharmony', 'sunos', 'aix'];
const CPU = [
  ['aarch64', 'arm64'],
  ['arm64', 'arm64'],
  ['x64', 'x64'],
  ['ia32', 'ia32'],
  ['armv7', 'arm'],
  ['arm', 'arm'],
  ['ppc64', 'ppc64'],
  ['s390x', 's390x'],
  ['riscv64', 'riscv64'],
  ['loong64', 'loong64'],
];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = OS.find((o) => parts.includes(o));
  const cpu = CPU.find(([token]) => parts.includes(token))?.[1];
  if (!os || !cpu) return undefined;
  const libc = parts.some((p) => p.startsWith('musl'))
    ? ['musl']
    : parts.some((p) => p.startsWith('gnu'))
      ? ['glibc']
      : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
}

/** Where node would find `dep` from the package at `from`: the first existing location upwards. */
function locate(from, dep) {
  const segments = from.split('/node_modules/');
  for (let i = segments.length; i >= 1; i--) {
    const base = segments.slice(0, i).join('/node_modules/');
    const candidate = `${base}/node_modules/${dep}`.replace(/^\/node_modules/, 'node_modules');
    if (pkgs[candidate]) return candidate;
  }
  return undefined;
}

let added = 0;
for (const [loc, meta] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (locate(loc, dep)) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    // Place it next to a sibling variant npm did install, or next to the parent.
    const sibling = Object.keys(meta.optionalDependencies)
      .map((d) => locate(loc, d))
      .find(Boolean);
    const dir = sibling
      ? sibling.slice(0, sibling.lastIndexOf('node_modules/') + 'node_modules/'.length)
      : `${loc}/node_modules/`;
    pkgs[`${dir}${dep}`] = {
      version,
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(`package-lock.json: added ${added} platform stub entr${added === 1 ? 'y' : 'ies'}`);
