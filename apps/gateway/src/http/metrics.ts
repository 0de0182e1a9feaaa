import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Counter, Histogram } from 'prom-client';
import { labelProcessMetrics, processMetrics } from '@qnet/bus';

// One registry per process, as in every service and agent: series carry service="gateway".
labelProcessMetrics({ service: 'gateway' });

export const httpMetrics = {
  requests: new Counter({
    name: 'qnet_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'code'],
    registers: [processMetrics],
  }),
  duration: new Histogram({
    name: 'qnet_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [processMetrics],
  }),
  bus: new Histogram({
    name: 'qnet_bus_request_duration_seconds',
    help: 'Bus request latency by subject and outcome (ok or error code)',
    labelNames: ['subject', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [processMetrics],
  }),
};

@ApiExcludeController()
@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('Content-Type', processMetrics.contentType)
  metrics(): Promise<string> {
    return processMetrics.metrics();
  }
}
