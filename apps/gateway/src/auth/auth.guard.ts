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

/**
 * Bearer API tokens with a project scope. A scoped token may only name its own project; the
 * scope travels on the bus (x-qnet-project) so services can filter by it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(@Inject(AUTH) private readonly auth: AuthSettings) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (this.auth.mode === 'off' || OPEN_PATHS.has(req.path) || req.path.startsWith('/docs'))
      return true;
    if (req.path === JOIN_PATH && req.headers.authorization === undefined) return true;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new QnetError(
        'unauthenticated',
        'missing bearer token (Authorization: Bearer <token>)',
      );
    const token = findToken(this.auth.tokens, match[1]!);
    if (!token) throw new QnetError('unauthenticated', 'unknown API token');
    if (token.project !== '*') {
      const ctx = currentContext();
      // Fail closed: a scoped request must never travel unscoped.
      if (!ctx) throw new QnetError('internal', 'request context missing');
      ctx.project = token.project;
      const body = req.body as Record<string, unknown> | undefined;
      const named = [
        body && typeof body === 'object' ? body.project_id : undefined,
        req.query.project_id,
      ];
      if (named.some((p) => p !== undefined && p !== token.project)) {
        throw new QnetError(
          'permission_denied',
          `this token is scoped to project ${token.project}`,
          [{ field: 'project_id', message: `must be ${token.project} for this token` }],
        );
      }
    }
    return true;
  }
}
