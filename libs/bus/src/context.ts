import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { NatsContext } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { clusterOnlyMessage, isClusterSubject, QnetError } from '@qnet/contracts';
import {
  currentContext,
  deadlineFor,
  IDEMPOTENCY_KEY_HEADER,
  isIdempotencyKey,
  PROJECT_HEADER,
  REQUEST_ID_HEADER,
  sanitizeRequestId,
  TIMEOUT_HEADER,
  type RequestContext,
} from '@qnet/runtime';

/**
 * The caller's request id, project scope, idempotency key and deadline, from a bus message's
 * headers: the context its handler's logs, events, transactions and requests run in.
 */
export function contextFromHeaders(headers: MsgHdrs | undefined): RequestContext {
  const key = headers?.get(IDEMPOTENCY_KEY_HEADER);
  const budget = Number(headers?.get(TIMEOUT_HEADER) || NaN);
  return {
    requestId: sanitizeRequestId(headers?.get(REQUEST_ID_HEADER)),
    project: headers?.get(PROJECT_HEADER) || undefined,
    idempotencyKey: isIdempotencyKey(key) ? key : undefined,
    deadline: budget > 0 ? deadlineFor(budget) : undefined,
  };
}

/** Refuses a project-scoped caller the cluster's own operations. */
@Injectable()
export class ClusterScopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const nats = context.switchToRpc().getContext<NatsContext>();
    const project = currentContext()?.project;
    if (project && typeof nats?.getSubject === 'function' && isClusterSubject(nats.getSubject()))
      throw new QnetError('permission_denied', clusterOnlyMessage(project));
    return next.handle();
  }
}
