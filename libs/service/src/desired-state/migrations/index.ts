import { DesiredStateKit1733200000000 } from './1733200000000-desired-state-kit.js';
import { IdempotencyKeys1733300000000 } from './1733300000000-idempotency-keys.js';

/** The kit's migrations, which runService runs before each service's own. */
export const KIT_MIGRATIONS = [DesiredStateKit1733200000000, IdempotencyKeys1733300000000];

/** The kit's tables: typed once, in the kit's db.ts, and left out of each service's. */
export const KIT_TABLES = ['agent_drivers', 'outbox', 'idempotency_keys'];
