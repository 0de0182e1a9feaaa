import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { QnetError, type FieldViolation } from '@qnet/contracts';

/**
 * Flattens class-validator errors into field paths such as "health_check.port". A field that is
 * missing says it is required, rather than which of its rules an absent value broke first.
 */
export function fieldViolations(errors: ValidationError[], parent = ''): FieldViolation[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const messages = Object.values(e.constraints ?? {});
    const own = (e.value === undefined && messages.length ? ['is required'] : messages).map(
      (message) => ({
        field,
        message: message.startsWith(`${e.property} `)
          ? message.slice(e.property.length + 1)
          : message,
      }),
    );
    return [...own, ...fieldViolations(e.children ?? [], field)];
  });
}

/**
 * The first value no field may hold, as a field path and why: a null (optional fields are
 * omitted, never null: a null would otherwise slip past `@IsOptional()` into code and columns that
 * expect a value), or a number beyond ±2^53, which JavaScript cannot hold exactly (1e308 is an
 * "integer" to `Number.isInteger`) and no column takes.
 */
export function firstRefused(
  value: unknown,
  path = '',
): { field: string; message: string } | undefined {
  const field = path || '(body)';
  if (value === null) return { field, message: 'must not be null: leave the field out instead' };
  if (typeof value === 'number' && Math.abs(value) > Number.MAX_SAFE_INTEGER)
    return {
      field,
      message: `must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
    };
  if (typeof value !== 'object') return undefined;
  for (const [k, v] of Object.entries(value as object)) {
    const found = firstRefused(
      v,
      Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k,
    );
    if (found) return found;
  }
  return undefined;
}

const isPlainObject = (v: unknown) =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

function refuseHostileValues(value: unknown): void {
  const refused = firstRefused(value);
  if (refused) throw QnetError.invalid(refused.field, refused.message);
}

/**
 * Validation at every consumer: unknown fields are rejected (not silently dropped), payloads become
 * class instances, and the error names each field.
 */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    // Values are kept on the errors only to tell a missing field; they never reach a reply.
    validationError: { target: false, value: true },
    exceptionFactory: (errors) => {
      const details = fieldViolations(errors);
      const message = details.map((d) => `${d.field}: ${d.message}`).join('; ');
      return new QnetError('invalid_argument', message || 'invalid request', details);
    },
  });
}

class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Payloads arrive as plain JSON objects; handler contexts (NatsContext) are left alone.
    if (this.toValidate(metadata) && isPlainObject(value)) refuseHostileValues(value);
    return super.transform(value, metadata);
  }
}

const payloadPipe = createValidationPipe();

/** The same validation as the bus handlers, for a document that arrives another way (HTTP). */
export async function validatePayload<T extends object>(
  cls: new (...args: never[]) => T,
  body: unknown,
): Promise<T> {
  return (await payloadPipe.transform(body ?? {}, { type: 'body', metatype: cls })) as T;
}
