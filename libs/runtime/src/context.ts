import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Per-request context carried across async calls and, as NATS headers, across the bus. */
export interface RequestContext {
  requestId: string;
  /** Project the caller's token is scoped to; undefined for internal or unscoped callers. */
  project?: string;
  /** Epoch ms by which the caller must have its answer; work not committed by then is rolled back. */
  deadline?: number;
  /** The caller's idempotency key: a repeated request with it gets the first one's answer. */
  idempotencyKey?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export const REQUEST_ID_HEADER = 'x-request-id';
export const PROJECT_HEADER = 'x-qnet-project';
/** The caller's remaining budget in ms, relative so that clocks need not agree across hosts. */
export const TIMEOUT_HEADER = 'x-qnet-timeout-ms';
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

export function newRequestId(): string {
  return randomUUID();
}

/** What a caller may give as a request id or an idempotency key: short and printable. */
const CALLER_TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's request id only when it is short and printable; otherwise makes one. */
export function sanitizeRequestId(value: unknown): string {
  return typeof value === 'string' && CALLER_TOKEN.test(value) ? value : newRequestId();
}

/** Milliseconds left before the current request's deadline; undefined without one. */
export function remainingMs(
  ctx: RequestContext | undefined = currentContext(),
): number | undefined {
  return ctx?.deadline === undefined ? undefined : ctx.deadline - Date.now();
}

/**
 * The deadline a handler works to for a caller with `budgetMs` left: a little earlier than the
 * caller's own, so that a refusal (or the answer) reaches it before it stops waiting.
 */
export function deadlineFor(budgetMs: number, now = Date.now()): number {
  return now + budgetMs - Math.min(250, Math.ceil(budgetMs / 10));
}

/** An idempotency key as a caller may give it: printable, at most 128 characters. */
export function isIdempotencyKey(value: unknown): value is string {
  return typeof value === 'string' && CALLER_TOKEN.test(value);
}
