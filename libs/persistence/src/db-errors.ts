import { QnetError, type ErrorCode } from '@qnet/contracts';

/** The constraint a PostgreSQL error violated, if it was one. */
export function violatedConstraint(err: unknown): string | undefined {
  const e = err as { driverError?: { code?: string; constraint?: string }; code?: string };
  const code = e?.driverError?.code ?? e?.code;
  if (!code?.startsWith('23')) return undefined;
  return e.driverError?.constraint ?? (e as { constraint?: string }).constraint;
}

/**
 * Turns a violation of one of the listed constraints into a field-named error; anything else is
 * rethrown unchanged (the bus maps remaining SQL states generically).
 */
export function explainViolation(
  err: unknown,
  known: Record<string, { field: string; message: string; code?: ErrorCode }>,
): never {
  const hit = known[violatedConstraint(err) ?? ''];
  if (!hit) throw err;
  throw new QnetError(hit.code ?? 'already_exists', `${hit.field}: ${hit.message}`, [
    { field: hit.field, message: hit.message },
  ]);
}
