import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { credsUserName, NATS_USERS } from '@qnet/bus';
import { AGENT_METRICS_PORT, BUS_SERVICES } from '@qnet/contracts';
import { COMPOSE_NATS, writeComposeNats } from '@qnet/stack';
import { configSpecs } from './app-definitions.js';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  network_mode?: string;
  cap_add?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown>;
}

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('deploy/docker-compose.yml', root), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, ComposeService>;
};
/** Apps that run as a process (the console is files the gateway serves). */
const apps = readdirSync(new URL('apps', root)).filter((a) =>
  existsSync(new URL(`apps/${a}/src/main.ts`, root)),
);
const specs = configSpecs();

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

  const userOf = (name: string, svc: ComposeService) =>
    name === 'gateway'
      ? NATS_USERS.gateway
      : name === 'node-agent'
        ? NATS_USERS.agent(svc.environment!.QNET_HOST_ID!)
        : NATS_USERS.service(BUS_SERVICES.find((s) => s.app === name)!.id);

  it('connects each app to NATS with its own credentials file, which nats:config writes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-compose-'));
    try {
      await writeComposeNats(dir, ['node-1']);
      for (const [name, svc] of appServices) {
        const user = userOf(name, svc);
        expect(svc.environment!.NATS_CREDS).toBe(COMPOSE_NATS.creds);
        expect(svc.volumes).toContain(`./nats/creds/${user}.creds:${COMPOSE_NATS.creds}:ro`);
        const file = path.join(dir, 'creds', `${user}.creds`);
        expect(credsUserName(readFileSync(file, 'utf8'))).toBe(user);
        expect(statSync(file).mode & 0o777).toBe(0o600);
      }
      const registry = compose.services['network-registry']!;
      expect(registry.environment!.QNET_NATS_AUTHORITY_FILE).toBe(COMPOSE_NATS.authority);
      expect(registry.volumes).toContain(`./nats/authority.json:${COMPOSE_NATS.authority}:ro`);
      expect(statSync(path.join(dir, 'authority.json')).mode & 0o777).toBe(0o600);
      expect(compose.services.nats!.volumes).toContain('./nats/nats.conf:/etc/nats/nats.conf:ro');
      // Operator mode, no users in the file; the authority is kept across runs.
      const conf = readFileSync(path.join(dir, 'nats.conf'), 'utf8');
      expect(conf).toMatch(/^operator: "/m);
      // No seed (S + O/A/U + 56 base32 characters) and no password in the file.
      expect(conf).not.toMatch(/\bS[OAU][A-Z2-7]{56}\b|password/);
      await writeComposeNats(dir, ['node-1']);
      expect(readFileSync(path.join(dir, 'nats.conf'), 'utf8')).toBe(conf);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Two rounds of signing every component's credentials in pure JS (nkeys' ed25519): under
    // jest's module VM on 2 busy cores this takes 8–11 s (0.8 s in plain node), past the unit
    // tier's default 10 s.
  }, 30_000);

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
