import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';
import { processMetrics } from '@qnet/bus';
import { autocommit } from '@qnet/persistence';
import { agentDriversRepository } from './agent-drivers.repository.js';

/**
 * qnet_agent_driver_generation_lag{host,driver}: how far each host's agent is behind the desired
 * state this service gave it, read from agent_drivers at each scrape.
 */
export function exportGenerationLag(ds: DataSource): void {
  new Gauge({
    name: 'qnet_agent_driver_generation_lag',
    help: "desired generation minus the one the host's agent last applied",
    labelNames: ['host', 'driver'],
    registers: [processMetrics],
    async collect() {
      this.reset();
      // Without its database the service says so in /ready; a scrape still answers.
      const rows = await agentDriversRepository.lags(autocommit(ds)).catch(() => []);
      for (const r of rows) this.set({ host: r.host_id, driver: r.driver }, r.lag);
    },
  });
}
