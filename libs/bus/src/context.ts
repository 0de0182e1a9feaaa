import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { Observable } from 'rxjs';
import { clusterOnlyMessage, isClusterSubject, QnetError } from '@qnet/contracts';
import {
  PROJECT_HEADER,
  REQUEST_ID_HEADER,
  runWithContext,
  sanitizeRequestId,
} from '@qnet/runtime';

/**
 * Restores the caller's request id (and project scope) from NATS headers for the handler's logs,
 * events and requests, and refuses a project-scoped caller the cluster's own operations.
 */
@Injectable()
export class BusContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const nats = context.switchToRpc().getContext<NatsContext>();
    const headers = typeof nats?.getHeaders === 'function' ? nats.getHeaders() : undefined;
    const requestId = sanitizeRequestId(headers?.get(REQUEST_ID_HEADER));
    const project = headers?.get(PROJECT_HEADER) || undefined;
    if (project && typeof nats?.getSubject === 'function' && isClusterSubject(nats.getSubject()))
      throw new QnetError('permission_denied', clusterOnlyMessage(project));
    return new Observable((subscriber) =>
      runWithContext({ requestId, project }, () => next.handle().subscribe(subscriber)),
    );
  }
}
