#!/usr/bin/env node
// Runs the test tiers (README, "Tests") in order: unit, integration, fuzz, dataplane, system.
// A tier whose prerequisites are missing says why and is skipped; under CI=true a skip fails the run.
// child_process only for the install and build steps: they run before execa is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPrerequisites } from './prerequisites.mjs';

const ALL = ['unit', 'integration', 'fuzz', 'dataplane', 'system'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const extra = process.argv.slice(2).filter((a) => a.startsWith('-'));
const tiers = wanted.length ? wanted : ALL;
const ci = process.env.CI === 'true';
// A hung test must fail the run, not stall CI.
const TIER_TIMEOUT_MS = 20 * 60 * 1000;

if (!existsSync('node_modules')) run('npm', ['ci', '--no-audit', '--no-fund']);
run('npm', ['run', '--silent', 'build']);
// Static checks first: lint, module boundaries, types of every test, proto lint, formatting.
if (!wanted.length) run('npm', ['run', '--silent', 'lint']);

const { execa } = await import('execa');
const results = [];
const counts = { passed: 0, failed: 0, skipped: 0 };
const reportDir = mkdtempSync(path.join(os.tmpdir(), 'qnet-jest-'));
for (const tier of tiers) {
  const missing = await checkPrerequisites(tier);
  if (missing.length) {
    console.log(`\n== tier ${tier}: SKIPPED — ${missing.join('; ')}`);
    results.push({ tier, outcome: 'skipped' });
    continue;
  }
  console.log(`\n== tier ${tier}`);
  const res = await execa(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings',
      'node_modules/jest/bin/jest.js',
      '--json',
      `--outputFile=${path.join(reportDir, `${tier}.json`)}`,
      ...extra,
    ],
    {
      stdio: 'inherit',
      env: { QNET_TEST_TIER: tier },
      timeout: TIER_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      reject: false,
    },
  );
  if (res.timedOut)
    console.log(`tier ${tier} ran past ${TIER_TIMEOUT_MS / 60000} minutes and was stopped`);
  results.push({ tier, outcome: res.exitCode === 0 ? 'passed' : 'failed' });
  try {
    const report = JSON.parse(readFileSync(path.join(reportDir, `${tier}.json`), 'utf8'));
    counts.passed += report.numPassedTests;
    counts.failed +=
      report.numFailedTests + (res.exitCode !== 0 && report.numFailedTests === 0 ? 1 : 0);
    counts.skipped += report.numPendingTests;
  } catch {
    counts.failed += 1; // the tier crashed or timed out before reporting
  }
}
rmSync(reportDir, { recursive: true, force: true });

console.log('\n== summary');
for (const r of results) console.log(`  ${r.tier.padEnd(12)} ${r.outcome}`);
console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
const failed = results.filter((r) => r.outcome === 'failed');
const skipped = results.filter((r) => r.outcome === 'skipped');
if (failed.length || (ci && skipped.length)) {
  if (ci && skipped.length) console.log('CI=true: a skipped tier is a failure.');
  process.exit(1);
}

function run(cmd, args) {
  const res = spawnSync(cmd, args, { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
