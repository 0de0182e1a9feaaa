import { Inject, Injectable } from '@nestjs/common';
import { errors, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { QnetError, type RpcContract } from '@qnet/contracts';
import { currentContext, PROJECT_HEADER, REQUEST_ID_HEADER } from '@qnet/runtime';
import { decodeReply, encodeJson } from './codec.js';
import { NATS_CONNECTION } from './tokens.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Request/reply over NATS with a bounded wait. No responders → unavailable (503) at once;
 * no answer in time → deadline_exceeded (504). The request id and project scope of the current
 * context travel as NATS headers.
 */
export async function busRequest<T>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  opts: { timeoutMs?: number; requestId?: string; project?: string } = {},
): Promise<T> {
  const ctx = currentContext();
  const h = natsHeaders();
  const requestId = opts.requestId ?? ctx?.requestId;
  const project = opts.project ?? ctx?.project;
  if (requestId) h.set(REQUEST_ID_HEADER, requestId);
  if (project) h.set(PROJECT_HEADER, project);
  const timeout = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
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

/** Injectable form of busRequest with a typed contract. */
@Injectable()
export class BusClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  request<Req extends object, Res>(
    contract: RpcContract<Req, Res>,
    payload: Req,
    timeoutMs?: number,
  ): Promise<Res> {
    return busRequest<Res>(this.nc, contract.subject, payload, { timeoutMs });
  }
}
