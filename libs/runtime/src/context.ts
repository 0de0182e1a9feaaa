import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Per-request context carried across async calls and, as NATS headers, across the bus. */
export interface RequestContext {
  requestId: string;
  /** Project the caller's token is scoped to; undefined for internal or unscoped callers. */
  project?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const REQUEST_ID_HEADER = 'x-request-id';
export const PROJECT_HEADER = 'x-qnet-project';

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function newRequestId(): string {
  return randomUUID();
}

/** Accepts a caller's request id only when it is short and printable; otherwise makes one. */
export function sanitizeRequestId(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(value)
    ? value
    : newRequestId();
}
