import { DEFAULT_PROJECT, QnetError } from '@qnet/contracts';
import { currentContext } from '@qnet/runtime';

/**
 * Tenancy (README, "Tenancy"), the one mechanism every service applies to its project-owned resources.
 *
 * The caller's scope is the project its API token is bound to (the gateway's `x-qnet-project`,
 * restored from the bus headers), or null for the admin token and for the control plane's own
 * work (resyncs, status intake, failover), which see every project. Every query that reads, changes
 * or deletes a project's resource on a caller's behalf reads `callerScope()` and
 * filters on it with `inCallerScope` (query.ts), in the statement itself — so another project's row is simply not
 * there (a 404 indistinguishable from absent). Children are reached through their scoped parent.
 */
export function callerScope(): string | null {
  return currentContext()?.project ?? null;
}

/**
 * The project filter of a list: a scoped caller lists only its own project, and naming another
 * one is a 403 (it is not asking for something absent, it is asking for something forbidden).
 */
export function listedProject(requested: string | undefined): string | null {
  const scope = callerScope();
  if (scope === null) return requested ?? null;
  if (requested !== undefined && requested !== scope) throw outOfScope(scope);
  return scope;
}

/** The project a new resource belongs to: the scoped caller's own, else the named one or the default. */
export function ownerProject(requested: string | undefined): string {
  return listedProject(requested) ?? DEFAULT_PROJECT;
}

function outOfScope(scope: string): QnetError {
  return new QnetError('permission_denied', `this token is scoped to project ${scope}`, [
    { field: 'project_id', message: `must be ${scope} for this token` },
  ]);
}
