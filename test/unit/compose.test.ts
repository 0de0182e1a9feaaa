import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { agentPermissions, NATS_USERS } from '@qnet/bus';
import { AGENT_METRICS_PORT, BUS_SERVICES } from '@qnet/contracts';
import { composeNatsConfig, natsPasswordVar } from '@qnet/stack';
import { configSpecs } from './app-definitions.js';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  cap_add?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown>;
}

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('deploy/docker-compose.yml', root), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, ComposeService>;
};
const apps = readdirSync(new URL('apps', root));
const specs = configSpecs();
const natsConf = readFileSync(new URL('deploy/nats/nats.conf', root), 'utf8');

describe('deploy/docker-compose.yml', () => {
  const appServices = Object.entries(compose.services).filter(
    ([name]) => !['nats', 'postgres', 'prometheus'].includes(name),
  );

  it('runs every app exactly once, each from its own built entry point', () => {
    expect(appServices.map(([name]) => name).sort()).toEqual([...apps].sort());
    for (const [name, svc] of appServices)
      expect(svc.command).toEqual(['node', `apps/${name}/dist/main.js`]);
  });

  it('gives each app only variables its config schema knows, and every required one', () => {
    for (const [name, svc] of appServices) {
      const known = new Map(Object.values(specs[name]!).map((v) => [v.name, v]));
      const unknown = Object.keys(svc.environment ?? {}).filter((k) => !known.has(k));
      expect({ app: name, unknown }).toEqual({ app: name, unknown: [] });
      const missing = [...known.values()].filter(
        (v) => v.required && v.default === undefined && !(v.name in (svc.environment ?? {})),
      );
      expect({ app: name, missing }).toEqual({ app: name, missing: [] });
    }
  });

  it('connects each app to NATS as its own user, whose password the nats container receives', () => {
    const natsEnv = compose.services.nats!.environment ?? {};
    for (const [name, svc] of appServices) {
      const user = svc.environment!.NATS_USER!;
      const expected =
        name === 'gateway'
          ? NATS_USERS.gateway
          : name === 'node-agent'
            ? NATS_USERS.agent(svc.environment!.QNET_HOST_ID!)
            : NATS_USERS.service(BUS_SERVICES.find((s) => s.app === name)!.id);
      expect(user).toBe(expected);
      expect(natsConf).toContain(`user: "${user}"`);
      expect(natsEnv[natsPasswordVar(user)]).toBeDefined();
      expect(svc.environment!.NATS_PASSWORD).toBe(natsEnv[natsPasswordVar(user)]);
    }
  });

  it('publishes the gateway on 8080 with authentication required', () => {
    const gw = compose.services.gateway!;
    expect(gw.ports).toContain('8080:8080');
    expect(gw.environment).toMatchObject({ GATEWAY_HOST: '0.0.0.0', GATEWAY_AUTH: 'required' });
  });

  it('runs the node agent on the host network with NET_ADMIN, driving the host explicitly', () => {
    const agent = compose.services['node-agent']!;
    expect(agent.network_mode).toBe('host');
    expect(agent.cap_add).toContain('NET_ADMIN');
    expect(agent.environment!.AGENT_MODE).toBe('host');
  });

  it('starts services after NATS and PostgreSQL are healthy', () => {
    for (const s of BUS_SERVICES)
      expect(Object.keys(compose.services[s.app]!.depends_on ?? {}).sort()).toEqual([
        'nats',
        'postgres',
      ]);
  });

  it('ships the NATS config that the renderer produces (no hand edits, agent confined to its subjects)', () => {
    expect(natsConf).toBe(composeNatsConfig(['node-1']));
    for (const subject of agentPermissions('node-1').subscribe)
      expect(natsConf).toContain(`"${subject}"`);
  });

  it("has Prometheus scrape every app on its metrics port, which each app's listener binds", () => {
    const prom = parse(readFileSync(new URL('deploy/prometheus/prometheus.yml', root), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((j) => j.static_configs.flatMap((c) => c.targets));
    expect(targets).toContain('gateway:8080');
    expect(targets).toContain(`host.docker.internal:${AGENT_METRICS_PORT}`);
    for (const s of BUS_SERVICES) {
      expect(targets).toContain(`${s.app}:${s.metricsPort}`);
      expect(compose.services[s.app]!.environment!.METRICS_HOST).toBe('0.0.0.0');
    }
    expect(compose.services['node-agent']!.environment!.METRICS_HOST).toBe('0.0.0.0');
  });
});
