import 'reflect-metadata';
import type { DynamicModule, INestMicroservice, Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { DataSource, MixedList } from 'typeorm';
import { bootstrapService, HEALTH_CHECKS } from '@qnet/bus';
import { serviceById, type BusServiceId } from '@qnet/contracts';
import { DATA_SOURCE, databaseCheck, PersistenceModule, waitForDatabase } from '@qnet/persistence';
import {
  createLogger,
  loadConfig,
  redactedConfig,
  type ConfigOf,
  type ConfigSpec,
} from '@qnet/runtime';
import { serviceConfigSpec } from './config.js';
import { KIT_MIGRATIONS } from './desired-state/migrations/index.js';
import { exportGenerationLag } from './desired-state/generation-lag.metric.js';
import { Outbox } from './desired-state/outbox.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';

export interface ServiceDefinition<C> {
  service: BusServiceId;
  /** The service's own variables, on top of serviceConfigSpec. */
  config?: ConfigSpec<C>;
  /** Feature module; receives the loaded config through `module(config)`. */
  module: (config: C & ServiceConfig) => Type | DynamicModule;
  schema: string;
  entities: MixedList<Function>;
  migrations: Function[];
}

export type ServiceConfig = ConfigOf<typeof serviceConfigSpec>;

/** Starts a service from its definition, with its database check in Ping. Logs and exits on a startup failure. */
export async function runService<C = object>(
  def: ServiceDefinition<C>,
): Promise<INestMicroservice> {
  const logger = createLogger(def.service);
  try {
    const spec = { ...serviceConfigSpec, ...(def.config ?? {}) } as ConfigSpec<C & ServiceConfig>;
    const config = loadConfig(spec);
    logger.level = config.logLevel;
    logger.info({ config: redactedConfig(spec, config) }, 'starting');
    await waitForDatabase(config.databaseUrl);
    const { app } = await bootstrapService({
      service: def.service,
      bus: {
        url: config.natsUrl,
        credsFile: config.natsCreds,
        name: def.service,
      },
      logger,
      maxInflight: config.maxInflight,
      eventsReplicas: config.eventsReplicas,
      metrics: {
        host: config.metricsHost,
        port:
          config.metricsPort === undefined
            ? serviceById(def.service)!.metricsPort
            : Number(config.metricsPort),
      },
      imports: [
        PersistenceModule.forRoot({
          url: config.databaseUrl,
          schema: def.schema,
          poolSize: config.databasePoolSize,
          entities: def.entities,
          migrations: [...KIT_MIGRATIONS, ...def.migrations],
        }),
        {
          module: class HealthChecksModule {},
          providers: [
            {
              provide: HEALTH_CHECKS,
              useFactory: (ds: DataSource) => [databaseCheck(ds)],
              inject: [DATA_SOURCE],
            },
          ],
          exports: [HEALTH_CHECKS],
          global: true,
        },
        {
          module: class OutboxModule {},
          providers: [Outbox],
          exports: [Outbox],
          global: true,
        },
        {
          module: class IdempotencyModule {},
          providers: [{ provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor }],
        },
        def.module(config),
      ],
    });
    exportGenerationLag(app.get<DataSource>(DATA_SOURCE));
    return app;
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}
