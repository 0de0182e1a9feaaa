import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { QnetError, type FieldViolation } from '@qnet/contracts';

/** Flattens class-validator errors into field paths such as "health_check.port". */
export function fieldViolations(errors: ValidationError[], parent = ''): FieldViolation[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith(`${e.property} `)
        ? message.slice(e.property.length + 1)
        : message,
    }));
    return [...own, ...fieldViolations(e.children ?? [], field)];
  });
}

/**
 * Validation at every consumer: unknown fields are rejected (not silently dropped), payloads become
 * class instances, and the error names each field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = fieldViolations(errors);
      const message = details.map((d) => `${d.field}: ${d.message}`).join('; ');
      return new QnetError('invalid_argument', message || 'invalid request', details);
    },
  });
}

const payloadPipe = createValidationPipe();

/** The same validation as the bus handlers, for a document that arrives another way (HTTP). */
export async function validatePayload<T extends object>(
  cls: new (...args: never[]) => T,
  body: unknown,
): Promise<T> {
  return (await payloadPipe.transform(body ?? {}, { type: 'body', metatype: cls })) as T;
}
