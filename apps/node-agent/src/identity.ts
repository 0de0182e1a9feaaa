import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AgentMode } from '@qnet/contracts';
import type { AgentConfig } from './config.js';

export interface AgentIdentity {
  hostId: string;
  hostname: string;
  underlayIp: string;
  mode: AgentMode;
  netns?: string;
}

export function machineId(): string {
  return readFileSync('/etc/machine-id', 'utf8').trim();
}

export function firstUnderlayIp(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Resolves identity and mode; "auto" never touches the host's own namespace. */
export function resolveIdentity(c: AgentConfig, isRoot = process.getuid?.() === 0): AgentIdentity {
  const hostId = c.hostId ?? machineId();
  const mode: AgentMode = c.mode === 'auto' ? (isRoot ? 'netns' : 'dry-run') : c.mode;
  return {
    hostId,
    hostname: c.hostname ?? os.hostname(),
    underlayIp: c.underlayIp ?? firstUnderlayIp(),
    mode,
    ...(mode === 'netns' ? { netns: c.netns ?? `qnet-${hostId}`.slice(0, 64) } : {}),
  };
}
