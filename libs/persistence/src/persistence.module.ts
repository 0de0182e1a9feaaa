import {
  Global,
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { openDataSource, type OpenOptions } from './data-source.js';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

/** pg's pool, as TypeORM's PostgreSQL driver holds it. */
interface PgPoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/**
 * Closes the pool once it has been quiet for a moment (bounded): the bus is drained by then, but
 * work a last message started may still be between two queries, and a query after the pool's end
 * fails ("Cannot use a pool after calling end on the pool").
 */
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (!this.ds.isInitialized) return;
    const pool = (this.ds.driver as unknown as { master?: PgPoolCounts }).master;
    const busy = () => (pool ? pool.totalCount - pool.idleCount + pool.waitingCount : 0);
    const deadline = Date.now() + 5_000;
    for (let quietSince = Date.now(); Date.now() < deadline;) {
      if (busy() > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 100) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.ds.destroy();
  }
}

/** Provides the service's DataSource (migrated) and closes its pool on shutdown. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(opts: OpenOptions): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        { provide: DATA_SOURCE, useFactory: () => openDataSource(opts) },
        DataSourceCloser,
      ],
      exports: [DATA_SOURCE],
    };
  }
}

/** Health check for Ping: a round trip to the database. */
export function databaseCheck(ds: DataSource) {
  return { name: 'database', check: async () => void (await ds.query('SELECT 1')) };
}
