/**
 * One error shape for every reply on the bus and every HTTP error: a Connect-style code, a
 * human message and per-field details. The gateway maps the code to the HTTP status.
 */
export const ERROR_HTTP_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  aborted: 409,
  failed_precondition: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  resource_exhausted: 429,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  deadline_exceeded: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

export interface FieldViolation {
  field: string;
  message: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: FieldViolation[];
}

export class QnetError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldViolation[],
  ) {
    super(message);
    this.name = 'QnetError';
  }

  toBody(): ErrorBody {
    return this.details?.length
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }

  static from(body: ErrorBody): QnetError {
    const code = body.code in ERROR_HTTP_STATUS ? body.code : 'internal';
    return new QnetError(code, body.message, body.details);
  }

  static invalid(field: string, message: string): QnetError {
    return new QnetError('invalid_argument', `${field}: ${message}`, [{ field, message }]);
  }

  static notFound(kind: string, id: string): QnetError {
    return new QnetError('not_found', `${kind} ${id} not found`);
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).code === 'string' &&
    typeof (value as ErrorBody).message === 'string'
  );
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_HTTP_STATUS[code] ?? 500;
}
