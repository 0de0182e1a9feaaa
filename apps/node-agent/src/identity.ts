import { readFileSync } from 'node:fs';
import { execa } from 'execa';
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

/**
 * In netns mode the agent lives in `ns`, so the host it reports is the one in there: an explicit
 * AGENT_NETNS must exist (a typo must not become a fresh empty namespace that reports healthy), and
 * its underlay address is one of that namespace's, not the root namespace's (loopback when it has
 * none: a host no other host can reach, which is what it is). Only the agent's own default
 * namespace is created.
 */
export async function enterNamespace(id: AgentIdentity, c: AgentConfig): Promise<AgentIdentity> {
  const ns = id.netns!;
  const list = await execa('ip', ['netns', 'list']);
  const existing = list.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
  if (!existing.includes(ns)) {
    if (c.netns)
      throw new Error(
        `AGENT_NETNS=${ns}: no such network namespace (ip netns list: ${existing.join(', ') || 'none'}); create it, or unset AGENT_NETNS for the agent's own qnet-<host> namespace`,
      );
    await execa('ip', ['netns', 'add', ns]);
  }
  await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (c.underlayIp) return id;
  const addrs = await execa('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'scope', 'global']);
  const first = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addrs.stdout)?.[1];
  return { ...id, underlayIp: first ?? '127.0.0.1' };
}
