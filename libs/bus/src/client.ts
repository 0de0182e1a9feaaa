import { errors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { QnetError, type AgentCallContract, type RpcContract } from '@qnet/contracts';
import {
  currentContext,
  endOfTurn,
  IDEMPOTENCY_KEY_HEADER,
  PROJECT_HEADER,
  remainingMs,
  REQUEST_ID_HEADER,
  TIMEOUT_HEADER,
} from '@qnet/runtime';
import { decodeReply, encodeJson } from './codec.js';
import { isLinkDown } from './connection.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface RequestOptions {
  timeoutMs?: number;
  requestId?: string;
  project?: string;
}

/** Calls another component's RPC: request and reply types come from the contract. */
export function request<Req extends object, Res>(
  nc: NatsConnection,
  contract: RpcContract<Req, Res>,
  payload: Req,
  opts?: RequestOptions,
): Promise<Res> {
  return busRequest<Res>(nc, contract.subject, payload, opts);
}

/** Calls one host's agent subject (`qnet.agent.<host>.…`), typed by its contract. */
export function requestAgent<Req extends object, Res>(
  nc: NatsConnection,
  contract: AgentCallContract<Req, Res>,
  hostId: string,
  payload: Req,
  opts?: RequestOptions,
): Promise<Res> {
  return busRequest<Res>(nc, contract.subject(hostId), payload, opts);
}

/**
 * The raw transport under request(): for the gateway's forwarder of proto methods and for tests
 * of the wire. Request/reply over NATS with a bounded wait. No responders, or no NATS server (while
 * reconnecting) → unavailable (503) at once;
 * no answer in time → deadline_exceeded (504). The request id, project scope, idempotency key and
 * remaining budget (never more than the current request's own) travel as NATS headers.
 */
export async function busRequest<T>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  opts: RequestOptions = {},
): Promise<T> {
  // Requests made while reconnecting would wait out their whole timeout in the client's buffer.
  if (isLinkDown(nc))
    throw new QnetError(
      'unavailable',
      `the NATS server is unreachable (reconnecting); ${subject} was not sent, retry`,
    );
  const ctx = currentContext();
  const h = natsHeaders();
  const requestId = opts.requestId ?? ctx?.requestId;
  const project = opts.project ?? ctx?.project;
  if (requestId) h.set(REQUEST_ID_HEADER, requestId);
  if (project) h.set(PROJECT_HEADER, project);
  if (ctx?.idempotencyKey) h.set(IDEMPOTENCY_KEY_HEADER, ctx.idempotencyKey);
  const left = remainingMs(ctx);
  const timeout = Math.max(
    1,
    Math.min(opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, left ?? Number.POSITIVE_INFINITY),
  );
  h.set(TIMEOUT_HEADER, String(timeout));
  await endOfTurn();
  try {
    const msg = await nc.request(subject, encodeJson(payload), { timeout, headers: h });
    return decodeReply<T>(msg.data);
  } catch (err) {
    throw toBusError(err, subject, timeout);
  }
}

function toBusError(err: unknown, subject: string, timeout: number): unknown {
  if (err instanceof QnetError) return err;
  if (
    (err instanceof errors.RequestError && err.isNoResponders()) ||
    err instanceof errors.NoRespondersError
  ) {
    const [, kind, service] = subject.split('.');
    const who = kind === 'rpc' ? ` (the ${service} service is down or not deployed)` : '';
    return new QnetError('unavailable', `no service is answering ${subject}${who}`);
  }
  if (
    err instanceof errors.TimeoutError ||
    (err instanceof Error && err.cause instanceof errors.TimeoutError)
  ) {
    return new QnetError('deadline_exceeded', `${subject} did not answer within ${timeout} ms`);
  }
  if (
    err instanceof errors.PermissionViolationError ||
    (err instanceof Error && err.cause instanceof errors.PermissionViolationError)
  ) {
    return new QnetError('permission_denied', `not permitted to publish on ${subject}`);
  }
  if (
    err instanceof errors.ClosedConnectionError ||
    err instanceof errors.DrainingConnectionError
  ) {
    return new QnetError('unavailable', 'the bus connection is closing');
  }
  return err;
}
