import { queryBuilder } from '@qnet/persistence';
import type { DB } from './schema.js';

/** Builds the lb service's statements, typed by its migrated schema (schema.ts, `npm run db:types`). */
export const db = queryBuilder<DB>();
