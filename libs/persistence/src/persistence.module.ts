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

class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
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
