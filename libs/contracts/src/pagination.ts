import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { QnetError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Keyset pagination, Google AIP-158 style: page_size and an opaque page_token. */
export class PageRequest {
  @IsOptional() @IsInt() @Min(1) @Max(MAX_PAGE_SIZE) page_size?: number;
  @IsOptional() @IsString() @MaxLength(512) page_token?: string;
}

export interface Page<T> {
  items: T[];
  next_page_token: string;
}

export function encodePageToken(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodePageToken(token: string | undefined): (string | number)[] | undefined {
  if (!token) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
      return v;
  } catch {
    /* fall through */
  }
  return undefined;
}

/** The key a page starts after (undefined for the first page); 400 for a token this API did not issue. */
export function pageStart(token: string | undefined): string | undefined {
  const after = decodePageToken(token);
  if (token && !after) throw QnetError.invalid('page_token', 'is not a token this API issued');
  return after === undefined ? undefined : String(after[0]);
}

/** A page from rows read with `LIMIT limit + 1`: the extra row only says that a next page exists. */
export function pageOf<R, T>(
  rows: R[],
  limit: number,
  toItem: (row: R) => T,
  keyOf: (item: T) => string,
): Page<T> {
  const items = rows.slice(0, limit).map(toItem);
  return {
    items,
    next_page_token: rows.length > limit ? encodePageToken([keyOf(items[items.length - 1]!)]) : '',
  };
}
