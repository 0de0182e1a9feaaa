import type { EventEnvelope } from '@qnet/contracts';
import { QnetError, Subjects } from '@qnet/contracts';

/** A `type` filter: a service, service.resource or service.resource.event (lower-case tokens). */
const TYPE_RE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){0,2}$/;
const MAX_TYPES = 16;

/**
 * The NATS subjects a stream subscribes to for `type` (comma-separated; none: every event). A
 * filter of three tokens names one subject, a shorter one everything below it.
 */
export function subjectsOf(type: unknown): string[] {
  if (type === undefined || type === '') return [Subjects.eventsAll];
  if (typeof type !== 'string') throw QnetError.invalid('type', 'must be given once');
  const types = type.split(',');
  if (types.length > MAX_TYPES)
    throw QnetError.invalid('type', `names at most ${MAX_TYPES} event types`);
  for (const t of types)
    if (!TYPE_RE.test(t))
      throw QnetError.invalid(
        'type',
        `"${t}" is not service[.resource[.event]], e.g. registry.nic`,
      );
  return [...new Set(types)].map((t) =>
    t.split('.').length === 3 ? `qnet.evt.${t}` : `qnet.evt.${t}.>`,
  );
}

/**
 * Whether a caller scoped to `project` (undefined: the admin token, or auth off) may see an event:
 * its own project's, and hosts' (shared infrastructure every project reads); nothing else of the
 * cluster's own (devices, tunnels, join tokens) and nothing of another project.
 */
export function visibleTo(project: string | undefined, e: EventEnvelope): boolean {
  if (project === undefined) return true;
  if (e.project_id !== undefined) return e.project_id === project;
  return e.type.startsWith('registry.host.');
}

/** One event as a Server-Sent Event: its id (for Last-Event-ID), type and JSON envelope. */
export function sseFrame(e: EventEnvelope): string {
  return `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}
