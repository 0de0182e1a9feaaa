import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { DataSource } from 'typeorm';
import { normalizeError } from '@qnet/bus';
import { QnetError, type ErrorBody } from '@qnet/contracts';
import { DATA_SOURCE, joinFirstTransaction } from '@qnet/persistence';
import { currentContext, remainingMs, runWithContext } from '@qnet/runtime';
import { IdempotencyKeysRepository, type KeyedRequest } from './idempotency-keys.repository.js';

/** How long a key's answer is kept. */
const KEEP_HOURS = 24;
/**
 * A row without an answer older than this belongs to a request whose instance died between its
 * commit and recording the answer (milliseconds apart): the repeat is told the work was committed.
 */
const ANSWER_GRACE_MS = 5_000;

type Answer = { data: unknown } | { error: ErrorBody };

/**
 * A request carrying an Idempotency-Key gets the answer the first request with that key (same
 * project, same RPC) got, whether the repeat comes after it or races it: the key's row is written
 * in the first request's own transaction, so it exists exactly when that work was committed, and
 * a racing repeat loses on the row's primary key and is rolled back. Requests that changed nothing
 * (errors before any commit, refusals under load) store nothing and may simply be repeated.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleDestroy {
  private readonly keys: IdempotencyKeysRepository;
  private readonly prune: NodeJS.Timeout;

  constructor(@Inject(DATA_SOURCE) ds: DataSource) {
    this.keys = new IdempotencyKeysRepository(ds);
    this.prune = setInterval(
      () => void this.keys.deleteOlderThan(KEEP_HOURS).catch(() => undefined),
      10 * 60_000,
    ).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.prune);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = currentContext();
    const nats = context.switchToRpc().getContext<NatsContext>();
    if (!ctx?.idempotencyKey || typeof nats?.getSubject !== 'function') return next.handle();
    const subject = nats.getSubject();
    const request: KeyedRequest = {
      project: ctx.project ?? '',
      subject,
      key: ctx.idempotencyKey,
      requestHash: createHash('sha256')
        .update(`${subject}\n${JSON.stringify(context.switchToRpc().getData() ?? null)}`)
        .digest('base64url'),
    };
    return from(this.once(request, () => lastValueFrom(next.handle(), { defaultValue: null })));
  }

  private async once(request: KeyedRequest, run: () => Promise<unknown>): Promise<unknown> {
    const prior = await this.keys.find(request);
    if (prior) return this.replay(request);
    const row = this.keys.rowStatement(request);
    try {
      const data = await joinFirstTransaction(row, run);
      if (row.committed) await this.record(request, { data: data ?? null });
      return data;
    } catch (err) {
      if (row.committed) {
        await this.record(request, { error: normalizeError(err) });
        throw err;
      }
      // A repeat that raced the first request and lost: the first one's answer is the answer.
      if (await this.keys.find(request)) return this.replay(request);
      throw err;
    }
  }

  /** The answer is recorded whatever the caller's deadline: the work it describes is committed. */
  private record(request: KeyedRequest, answer: Answer): Promise<void> {
    const ctx = currentContext();
    return runWithContext({ requestId: ctx?.requestId ?? '', project: ctx?.project }, () =>
      this.keys.recordAnswer(request, JSON.stringify(answer)),
    );
  }

  private async replay(request: KeyedRequest): Promise<unknown> {
    for (;;) {
      const stored = await this.keys.find(request);
      if (!stored) throw new QnetError('internal', 'idempotency key vanished');
      if (stored.requestHash !== request.requestHash)
        throw QnetError.invalid('Idempotency-Key', 'was already used for a different request');
      if (stored.answer !== null) {
        const answer = JSON.parse(stored.answer) as Answer;
        if ('error' in answer) throw QnetError.from(answer.error);
        return answer.data;
      }
      if (stored.ageMs > ANSWER_GRACE_MS)
        throw new QnetError(
          'aborted',
          'the request with this Idempotency-Key was committed but its answer was lost; read the resource to see its outcome',
        );
      if ((remainingMs() ?? ANSWER_GRACE_MS) < 100)
        throw new QnetError(
          'unavailable',
          'busy: the first request with this Idempotency-Key is still being answered; retry',
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
