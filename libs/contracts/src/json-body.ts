import { QnetError } from './errors.js';

/** Every request body of the API is a JSON object of at most this many bytes… */
export const MAX_BODY_BYTES = 1 << 20;
/** …nested at most this deep (the deepest real document is 4 levels). */
export const MAX_BODY_DEPTH = 32;

/**
 * The one way an HTTP request body becomes a document: absent or empty is `{}`; anything else must
 * be JSON (a declared content type must say so: a form or text is refused), be nested no deeper
 * than MAX_BODY_DEPTH (checked on the text before parsing, so a hostile nesting never reaches a
 * recursive walk) and be a JSON object.
 */
export function parseJsonBody(
  raw: Buffer,
  contentType: string | undefined,
): Record<string, unknown> {
  if (raw.length > MAX_BODY_BYTES) throw bodyTooLarge();
  if (raw.length === 0) return {};
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type && type !== 'application/json' && !type.endsWith('+json'))
    throw new QnetError(
      'unsupported_media_type',
      `content-type: must be application/json, not ${JSON.stringify(type.slice(0, 64))}`,
    );
  const text = raw.toString('utf8');
  if (nestingDepth(text) > MAX_BODY_DEPTH)
    throw QnetError.invalid('body', `must not be nested deeper than ${MAX_BODY_DEPTH} levels`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw QnetError.invalid('body', 'is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw QnetError.invalid('body', 'must be a JSON object');
  return doc as Record<string, unknown>;
}

function bodyTooLarge(): QnetError {
  return new QnetError('payload_too_large', `body: larger than ${MAX_BODY_BYTES} bytes`);
}

/**
 * An HTTP request's body, read to its end so the answer reaches the client; at most
 * MAX_BODY_BYTES are kept, and a larger body rejects with a 413.
 */
export function readRequestBody(req: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () =>
      size > MAX_BODY_BYTES ? reject(bodyTooLarge()) : resolve(Buffer.concat(chunks)),
    );
  });
}

/** The deepest bracket nesting of a JSON text, ignoring brackets inside strings. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character, so an escaped quote does not end the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
