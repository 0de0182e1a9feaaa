/** The gateway's error shape: a code, a message and the fields it names. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: { field: string; message: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }

  /** What the API said of one field, if it named it. */
  field(name: string): string | undefined {
    return this.body.details?.find((d) => d.field === name)?.message;
  }
}

const TOKEN = 'qnet.token';

/** The bearer token, kept for this browser tab only (session storage). */
export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN),
  set: (t: string) => sessionStorage.setItem(TOKEN, t),
  clear: () => sessionStorage.removeItem(TOKEN),
};

export const authHeaders = (): Record<string, string> => {
  const t = token.get();
  return t ? { Authorization: `Bearer ${t}` } : {};
};

/** Told when the gateway answers 401: the console asks for a token. */
let onUnauthenticated: () => void = () => undefined;
export const whenUnauthenticated = (f: () => void) => (onUnauthenticated = f);

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: {
      ...authHeaders(),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.ok) return res;
  const text = await res.text();
  let error: ErrorBody;
  try {
    error = JSON.parse(text) as ErrorBody;
  } catch {
    error = { code: 'unknown', message: text || res.statusText };
  }
  if (res.status === 401) onUnauthenticated();
  throw new ApiError(res.status, error);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  const text = res.status === 204 ? '' : await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

type Params = Record<string, string | number | undefined>;

export function withQuery(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** One page of a REST list: a bare JSON array, the next page's token in X-Next-Page-Token. */
export async function restPage<T>(
  path: string,
  params: Params,
): Promise<{ items: T[]; next: string }> {
  const res = await send('GET', withQuery(path, params));
  return {
    items: (await res.json()) as T[],
    next: res.headers.get('X-Next-Page-Token') ?? '',
  };
}

/** Every page of a list whose pages carry `next_page_token` (the seeds' Connect-style lists). */
export async function allPages<T>(
  path: string,
  key: string,
  params: Params = {},
  limit = 10_000,
): Promise<T[]> {
  const out: T[] = [];
  let token = '';
  do {
    const page = await get<Record<string, unknown>>(
      withQuery(path, { ...params, page_size: 500, page_token: token }),
    );
    out.push(...((page[key] as T[] | undefined) ?? []));
    token = (page.next_page_token as string | undefined) ?? '';
  } while (token && out.length < limit);
  return out;
}

/** Every page of a REST list (bare arrays). */
export async function allRest<T>(path: string, params: Params = {}, limit = 20_000): Promise<T[]> {
  const out: T[] = [];
  let next = '';
  do {
    const page = await restPage<T>(path, { ...params, page_size: 500, page_token: next });
    out.push(...page.items);
    next = page.next;
  } while (next && out.length < limit);
  return out;
}
