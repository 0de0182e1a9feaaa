import { Counter, Gauge, Histogram } from 'prom-client';
import { processMetrics } from '@qnet/bus';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What an agent exports besides Node's own: per driver applies, resyncs, refused commands. */
export const agentMetrics = {
  applyDuration: new Histogram({
    name: 'qnet_agent_apply_duration_seconds',
    help: 'desired-state applies (observe, plan, commands), by driver and outcome (ok or error)',
    labelNames: ['driver', 'outcome'],
    buckets: SECONDS,
    registers: [processMetrics],
  }),
  appliedGeneration: new Gauge({
    name: 'qnet_agent_applied_generation',
    help: 'the desired-state generation each driver last applied',
    labelNames: ['driver'],
    registers: [processMetrics],
  }),
  resyncDuration: new Histogram({
    name: 'qnet_agent_resync_duration_seconds',
    help: 'periodic resyncs of every driver (pull, else re-apply)',
    buckets: SECONDS,
    registers: [processMetrics],
  }),
  deltaFallbacks: new Counter({
    name: 'qnet_agent_delta_fallbacks_total',
    help: 'pushed changes that failed against the last applied state and were planned again against a full observation',
    labelNames: ['driver'],
    registers: [processMetrics],
  }),
  commandFailures: new Counter({
    name: 'qnet_agent_command_failures_total',
    help: 'commands on qnet.agent.<host>.cmd.<driver> refused or failed, by driver',
    labelNames: ['driver'],
    registers: [processMetrics],
  }),
};
