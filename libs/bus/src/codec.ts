import { isErrorBody, QnetError, type ErrorBody } from '@qnet/contracts';

/** Reply body on the bus: exactly one of data or error. Plain JSON, readable with `nats req`. */
export type ReplyBody<T> = { data: T } | { error: ErrorBody };

const encoder = new TextEncoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value ?? {}));
}

export function decodeReply<T>(raw: Uint8Array): T {
  let body: unknown;
  try {
    body = raw.length ? JSON.parse(new TextDecoder().decode(raw)) : {};
  } catch {
    throw new QnetError('internal', 'malformed reply on the bus');
  }
  if (
    typeof body === 'object' &&
    body !== null &&
    'error' in body &&
    isErrorBody((body as { error: unknown }).error)
  ) {
    throw QnetError.from((body as { error: ErrorBody }).error);
  }
  if (typeof body === 'object' && body !== null && 'data' in body)
    return (body as { data: T }).data;
  throw new QnetError('internal', 'reply on the bus has neither data nor error');
}
