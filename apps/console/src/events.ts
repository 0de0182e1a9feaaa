import type { QueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { authHeaders } from './api';

/** A domain event as the gateway streams it (GET /v1/events). */
export interface LiveEvent {
  id: string;
  type: string;
  occurred_at: string;
  resource_id: string;
  project_id?: string;
  data: unknown;
}

/** The queries an event makes stale, by the event type's service and resource. */
const STALE: [RegExp, string[]][] = [
  [/^registry\.(network|nic)\./, ['networks', 'network', 'nics', 'topology']],
  [/^registry\.host\./, ['hosts', 'topology']],
  [/^lb\./, ['lbs', 'lb', 'topology']],
  [/^vpn\./, ['vpn', 'topology']],
  [/^bgp\./, ['bgp', 'topology']],
  [/^(tunnel|device)\./, ['tunnels']],
];

const KEEP = 1_000;
/** The latest events (newest first) and whether the stream is up. */
let state: { events: LiveEvent[]; connected: boolean } = { events: [], connected: false };
const listeners = new Set<() => void>();
const update = (next: Partial<typeof state>) => {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
};

export function useEventLog(): { events: LiveEvent[]; connected: boolean } {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Server-Sent Events frames: `id:`, `event:`, `data:` lines, a blank line ends one. */
export function parseFrames(buffer: string): { frames: string[]; rest: string } {
  const parts = buffer.split('\n\n');
  return { frames: parts.slice(0, -1), rest: parts.at(-1) ?? '' };
}

function dataOf(frame: string): LiveEvent | undefined {
  const data = frame
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');
  if (!data) return undefined;
  try {
    return JSON.parse(data) as LiveEvent;
  } catch {
    return undefined;
  }
}

/**
 * Follows the event stream with the user's token (a fetch, not EventSource, which cannot send a
 * header) and marks the queries each event concerns stale — every page updates without a reload.
 * Reconnects with backoff, refetching everything then (the stream does not replay what it missed);
 * stops on a 401 (the console asks for a token) or when `signal` aborts.
 */
export async function followEvents(client: QueryClient, signal: AbortSignal): Promise<void> {
  let pending = new Set<string>();
  let flush: ReturnType<typeof setTimeout> | undefined;
  const invalidate = (keys: string[]) => {
    keys.forEach((k) => pending.add(k));
    flush ??= setTimeout(() => {
      for (const k of pending) void client.invalidateQueries({ queryKey: [k] });
      pending = new Set();
      flush = undefined;
    }, 50);
  };
  let reconnect = false;
  for (let delay = 500; !signal.aborted; delay = Math.min(delay * 2, 10_000)) {
    try {
      const res = await fetch('/v1/events', { headers: authHeaders(), signal });
      if (res.status === 401) return;
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      update({ connected: true });
      if (reconnect) void client.invalidateQueries();
      reconnect = true;
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const { frames, rest } = parseFrames(buffer + value);
        buffer = rest;
        for (const frame of frames) {
          const e = dataOf(frame);
          if (!e) continue;
          update({ events: [e, ...state.events].slice(0, KEEP) });
          for (const [re, keys] of STALE) if (re.test(e.type)) invalidate(keys);
        }
      }
    } catch {
      // Reconnect below, unless aborted.
    }
    update({ connected: false });
    if (!signal.aborted) await new Promise((r) => setTimeout(r, delay));
  }
}
