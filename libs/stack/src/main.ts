import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AGENT_METRICS_PORT, BUS_SERVICES } from '@qnet/contracts';
import { redactUrl } from '@qnet/runtime';
import { startStack, waitUntilReady, type Stack } from './stack.js';
import { supervise, type Supervisor } from './supervisor.js';

function hostIdFromMachine(): string {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim() || 'local';
  } catch {
    return 'local';
  }
}

/** `npm start`: the whole product on one machine, Ctrl-C stops it all. */
export async function runFromCli(root: string): Promise<void> {
  const env = process.env;
  const hostId = env.QNET_HOST_ID ?? hostIdFromMachine();
  const isRoot = process.getuid?.() === 0;
  let stack: Stack | undefined;
  let supervisor: Supervisor | undefined;
  let stopping = false;
  // Once: a terminal's Ctrl-C arrives here both from the terminal and forwarded by npm.
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping QuantumNet…`);
    supervisor?.stop();
    await stack?.stop();
    console.log('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    stack = await startStack({
      root,
      stateDir: env.QNET_STATE_DIR ?? path.join(root, '.qnet'),
      natsUrl: env.NATS_URL,
      databaseUrl: env.DATABASE_URL,
      gatewayHost: env.GATEWAY_HOST,
      gatewayPort: env.GATEWAY_PORT ? Number(env.GATEWAY_PORT) : 8080,
      hostId,
      agentMode: (env.AGENT_MODE as 'auto') ?? 'auto',
      devicePsk: env.DEVICE_BOOTSTRAP_PSK,
      console: true,
    });
    const mode =
      env.AGENT_MODE && env.AGENT_MODE !== 'auto' ? env.AGENT_MODE : isRoot ? 'netns' : 'dry-run';
    const lines = [
      '',
      'QuantumNet is starting:',
      `  console                   ${stack.gatewayUrl}/`,
      `  gateway (REST + Connect)  ${stack.gatewayUrl}   docs ${stack.gatewayUrl}/docs   ready ${stack.gatewayUrl}/ready`,
      `  NATS                      ${stack.natsUrl}${stack.nats ? `   monitoring ${stack.nats.monitorUrl}` : ' (given by NATS_URL)'}`,
      stack.database.kind === 'embedded'
        ? `  PostgreSQL (embedded)     one PGlite per service under ${path.join(env.QNET_STATE_DIR ?? path.join(root, '.qnet'), 'pgdata')}`
        : `  PostgreSQL (${stack.database.kind.padEnd(8)})    ${redactUrl(stack.database.url)}`,
      `  node agent                host ${hostId}, ${mode} mode${mode === 'netns' ? ` (namespace ${env.AGENT_NETNS ?? `qnet-${hostId}`}; your own network is untouched)` : mode === 'dry-run' ? ' (commands recorded, not executed)' : ''}`,
      `  logs                      ${path.join(env.QNET_STATE_DIR ?? path.join(root, '.qnet'), 'logs')}`,
    ];
    lines.push(
      `  seed 004 APIs             devices :${env.DEVICE_HTTP_PORT ?? '8090'} (DEVICE_HTTP_PORT), tunnels :${env.TUNNEL_HTTP_PORT ?? '8081'} (TUNNEL_HTTP_PORT)${stack.devicePskFile ? `; bootstrap PSK in ${stack.devicePskFile}` : ''}`,
    );
    if (env.METRICS_PORT !== '0')
      lines.push(
        `  metrics (Prometheus)      services :${BUS_SERVICES.map((s) => s.metricsPort).join(', :')}; agent :${AGENT_METRICS_PORT}`,
      );
    if (stack.observerCreds) {
      lines.push(
        `  watch events              nats sub --server ${stack.natsUrl} --creds ${stack.observerCreds} 'qnet.evt.>'`,
        `  add a host                curl -X POST ${stack.gatewayUrl}/v1/join-tokens, then on it: QNET_JOIN_TOKEN=<token> QNET_JOIN_URL=<gateway> NATS_URL=<nats> node apps/node-agent/dist/main.js`,
      );
    }
    console.log(lines.join('\n'));
    await waitUntilReady(stack, 60_000);
    console.log(
      `\nQuantumNet is ready: ${stack.gatewayUrl}/ready answers 200. Ctrl-C stops everything.\n`,
    );
    supervisor = supervise(stack.apps, {
      log: (line) =>
        !stopping && console.error(`${new Date().toISOString().slice(11, 19)} ${line}`),
    });
  } catch (err) {
    console.error(`\nQuantumNet could not start: ${(err as Error).message}`);
    await stack?.stop();
    process.exit(1);
  }
}
