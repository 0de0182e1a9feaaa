import { Controller, Get, Inject, Logger, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Request, Response } from 'express';
import { Gauge } from 'prom-client';
import { NATS_CONNECTION, processMetrics } from '@qnet/bus';
import type { EventEnvelope } from '@qnet/contracts';
import { currentContext } from '@qnet/runtime';
import { sseFrame, subjectsOf, visibleTo } from './event-stream.js';

const KEEPALIVE_MS = 15_000;
/** A client this far behind is cut off rather than buffered for (it reconnects with its id). */
const MAX_BUFFERED_BYTES = 1 << 20;

const streams = new Gauge({
  name: 'qnet_gateway_event_streams',
  help: 'open GET /v1/events streams (each holds its NATS subscriptions until it closes)',
  registers: [processMetrics],
});

/**
 * The cluster's domain events (`qnet.evt.>`) as Server-Sent Events, scoped like every other read:
 * a project's token sees its own project's events and hosts', the admin token everything.
 */
@ApiTags('events')
@Controller('v1/events')
export class EventsController {
  private readonly logger = new Logger('EventsController');

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  @Get()
  @ApiOperation({
    summary:
      'Stream domain events as text/event-stream (event = its type, data = the JSON envelope); filter with type=registry.nic,lb.member',
  })
  @ApiQuery({ name: 'type', required: false })
  stream(@Req() req: Request, @Res() res: Response, @Query('type') type?: unknown): void {
    const subjects = subjectsOf(type);
    const project = currentContext()?.project;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': connected\n\n');
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const subs: Subscription[] = [];
    const close = () => {
      if (!subs.length) return;
      clearInterval(keepalive);
      for (const s of subs.splice(0)) s.unsubscribe();
      streams.dec();
      res.end();
    };
    const send = (e: EventEnvelope) => {
      if (!visibleTo(project, e)) return;
      res.write(sseFrame(e));
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.logger.warn('an event stream fell too far behind: closed');
        close();
      }
    };
    for (const subject of subjects)
      subs.push(
        this.nc.subscribe(subject, {
          callback: (err, m) => {
            if (err) return close();
            try {
              send(m.json<EventEnvelope>());
            } catch {
              // Not an envelope: nothing a client could use.
            }
          },
        }),
      );
    streams.inc();
    res.on('close', close);
  }
}
