import { queryBuilder } from '@qnet/persistence';
import type { DesiredStateDB } from '@qnet/service';
import type { DB } from './schema.js';

/** Builds the tunnel-balancer service's statements, typed by its migrated tables (schema.ts, `npm run db:types`) and the kit's. */
export const db = queryBuilder<DB & DesiredStateDB>();
