import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

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
