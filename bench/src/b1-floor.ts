import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import pg from 'pg';
import { natsOptions } from '@qnet/bus';

/**
 * B1's floor: the thinnest code doing the product's essential work, without a framework — an
 * HTTP request in (node:http), one NATS hop to a second process, there one PostgreSQL write and
 * one JetStream publish, and the reply back out. Run as two processes by the benchmark:
 * `node b1-floor.js edge <port>` (as the gateway's NATS user) and `node b1-floor.js service` (as
 * the registry's), with NATS_URL, NATS_CREDS and DATABASE_URL set.
 */
export const FLOOR_SUBJECT = 'qnet.rpc.registry.BenchFloor';
export const FLOOR_SCRIPT = fileURLToPath(import.meta.url);

async function edge(port: number): Promise<void> {
  const nc = await connect(natsOptions(busFromEnv('b1-floor-edge')));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      nc.request(FLOOR_SUBJECT, Buffer.concat(chunks), { timeout: 5_000 }).then(
        (reply) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(reply.data);
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  });
  server.listen(port, '127.0.0.1', () => process.send?.('ready'));
}

async function service(): Promise<void> {
  const nc = await connect(natsOptions(busFromEnv('b1-floor-service')));
  const js = jetstream(nc);
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  nc.subscribe(FLOOR_SUBJECT, {
    callback: (_e, m) => {
      void (async () => {
        const { host_id, labels } = m.json<{ host_id: string; labels: Record<string, string> }>();
        const { rows } = await pool.query(
          'UPDATE network_registry.hosts SET labels = $2 WHERE id = $1 RETURNING id, labels',
          [host_id, labels],
        );
        const id = randomUUID();
        await js.publish('qnet.evt.registry.host.updated', JSON.stringify({ id, data: rows[0] }), {
          msgID: id,
        });
        m.respond(JSON.stringify({ data: rows[0] }));
      })();
    },
  });
  await nc.flush();
  process.send?.('ready');
}

function busFromEnv(name: string) {
  return { url: process.env.NATS_URL!, credsFile: process.env.NATS_CREDS, name };
}

const [role, port] = process.argv.slice(2);
if (role === 'edge') await edge(Number(port));
else if (role === 'service') await service();
