import { randomUUID } from 'node:crypto';
import type { BusServiceId } from './services.js';
import { Subjects } from './subjects.js';

/** A domain event as published on qnet.evt.<service>.<resource>.<event>: plain JSON. */
export interface EventEnvelope<T = unknown> {
  id: string;
  /** "<service>.<resource>.<event>", e.g. "registry.host.registered". */
  type: string;
  occurred_at: string;
  resource_id: string;
  /** The project of the resource (absent: the cluster's own); the event stream filters by it. */
  project_id?: string;
  request_id?: string;
  data: T;
}

export function makeEvent<T>(
  service: BusServiceId,
  resource: string,
  event: string,
  resourceId: string,
  data: T,
  requestId?: string,
  projectId?: string,
): { subject: string; envelope: EventEnvelope<T> } {
  const envelope: EventEnvelope<T> = {
    id: randomUUID(),
    type: `${service}.${resource}.${event}`,
    occurred_at: new Date().toISOString(),
    resource_id: resourceId,
    ...(projectId ? { project_id: projectId } : {}),
    ...(requestId ? { request_id: requestId } : {}),
    data,
  };
  return { subject: Subjects.event(service, resource, event), envelope };
}
