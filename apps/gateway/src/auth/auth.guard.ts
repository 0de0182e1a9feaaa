import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { QnetError } from '@qnet/contracts';
import { currentContext } from '@qnet/runtime';
import { findToken, type ApiToken, type AuthMode } from './tokens.js';

export const AUTH = Symbol('AUTH');
export interface AuthSettings {
  mode: AuthMode;
  tokens: ApiToken[];
}

const OPEN_PATHS = new Set(['/health', '/ready', '/metrics']);
/**
 * A new host enrolls here without a bearer token: the join token it carries is its credential. A
 * bearer token presented is still checked, and scopes the call like any other.
 */
const JOIN_PATH = '/v1/hosts/join';

/** What authorization looks at in a request, whichever way it arrived. */
export interface AuthRequest {
  path: string;
  authorization: string | undefined;
  body: unknown;
  /** The query string's project_id, if any. */
  queryProject: unknown;
}

/**
 * Bearer API tokens with a project scope. A scoped token may only name its own project; the
 * scope goes into the request context and travels on the bus (x-qnet-project) so services can
 * filter by it. Throws 401 or 403.
 */
export function authorize(auth: AuthSettings, req: AuthRequest): void {
  if (auth.mode === 'off' || OPEN_PATHS.has(req.path) || req.path.startsWith('/docs')) return;
  if (req.path === JOIN_PATH && req.authorization === undefined) return;
  const match = /^Bearer\s+(\S+)$/i.exec(req.authorization ?? '');
  if (!match)
    throw new QnetError('unauthenticated', 'missing bearer token (Authorization: Bearer <token>)');
  const token = findToken(auth.tokens, match[1]!);
  if (!token) throw new QnetError('unauthenticated', 'unknown API token');
  if (token.project === '*') return;
  const ctx = currentContext();
  // Fail closed: a scoped request must never travel unscoped.
  if (!ctx) throw new QnetError('internal', 'request context missing');
  ctx.project = token.project;
  const body = req.body;
  const named = [
    body && typeof body === 'object' ? (body as { project_id?: unknown }).project_id : undefined,
    req.queryProject,
  ];
  if (named.some((p) => p !== undefined && p !== token.project)) {
    throw new QnetError('permission_denied', `this token is scoped to project ${token.project}`, [
      { field: 'project_id', message: `must be ${token.project} for this token` },
    ]);
  }
}

/** `authorize` for every route Nest serves. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(AUTH) private readonly auth: AuthSettings) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    authorize(this.auth, {
      path: req.path,
      authorization: req.headers.authorization,
      body: req.body,
      queryProject: req.query.project_id,
    });
    return true;
  }
}
