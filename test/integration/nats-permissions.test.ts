import { errors, type NatsConnection } from '@nats-io/transport-node';
import { TestCluster } from '@qnet/testing';

/** Collects the asynchronous permission errors the server sends a connection. */
async function permissionErrors(nc: NatsConnection): Promise<string[]> {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status())
      if (s.type === 'error' && s.error instanceof errors.PermissionViolationError)
        seen.push(s.error.message);
  })();
  return seen;
}

describe('NATS users per component with subject permissions', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.create({ hostIds: ['host-a', 'host-b'] });
  });
  afterAll(() => cluster.teardown());

  it('agent A cannot read agent B’s commands, but receives its own', async () => {
    const a = await cluster.connectAs('agent-host-a');
    const errs = await permissionErrors(a);
    const stolen: string[] = [];
    const own: string[] = [];
    const spy = a.subscribe('qnet.agent.host-b.cmd.>', {
      callback: (_e, m) => void stolen.push(m.subject),
    });
    a.subscribe('qnet.agent.host-a.cmd.>', { callback: (_e, m) => void own.push(m.subject) });
    const wild = a.subscribe('qnet.agent.*.cmd.>', {
      callback: (_e, m) => void stolen.push(m.subject),
    });
    await a.flush();

    const control = await cluster.connectAs('network-registry');
    control.publish('qnet.agent.host-b.cmd.linux', '{}');
    control.publish('qnet.agent.host-a.cmd.linux', '{}');
    await control.flush();
    await new Promise((r) => setTimeout(r, 300));

    expect(stolen).toEqual([]);
    expect(own).toEqual(['qnet.agent.host-a.cmd.linux']);
    expect(errs.join('\n')).toMatch(/subscription to "qnet.agent.host-b.cmd.>"/i);
    expect(errs.join('\n')).toMatch(/subscription to "qnet.agent.\*.cmd.>"/i);
    expect(spy.isClosed() || wild.isClosed()).toBe(true);
  });

  it('agent A cannot speak for agent B, nor call services or read other replies', async () => {
    const a = await cluster.connectAs('agent-host-a');
    const errs = await permissionErrors(a);
    const observer = await cluster.connectAs('network-registry');
    const heard: string[] = [];
    observer.subscribe('qnet.agent.*.heartbeat', {
      callback: (_e, m) => void heard.push(m.subject),
    });
    await observer.flush();

    a.publish('qnet.agent.host-b.heartbeat', '{}');
    a.publish('qnet.agent.host-a.heartbeat', '{}');
    a.publish('qnet.rpc.registry.UpdateHost', '{}');
    a.subscribe('_INBOX.gateway.>');
    await a.flush();
    await new Promise((r) => setTimeout(r, 300));

    expect(heard).toEqual(['qnet.agent.host-a.heartbeat']);
    const all = errs.join('\n');
    expect(all).toMatch(/publish to "qnet.agent.host-b.heartbeat"/i);
    expect(all).toMatch(/publish to "qnet.rpc.registry.UpdateHost"/i);
    expect(all).toMatch(/subscription to "_INBOX.gateway.>"/i);
  });

  it('the gateway may only make requests; the observer may only watch', async () => {
    const gw = await cluster.connectAs('gateway');
    const gwErrs = await permissionErrors(gw);
    gw.publish('qnet.agent.host-a.cmd.linux', '{}');
    gw.publish('qnet.evt.registry.host.updated', '{}');
    await gw.flush();
    const obs = await cluster.connectAs('observer');
    const obsErrs = await permissionErrors(obs);
    obs.publish('qnet.rpc.registry.ListHosts', '{}');
    await obs.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(gwErrs).toHaveLength(2);
    expect(obsErrs.join('\n')).toMatch(/publish to "qnet.rpc.registry.ListHosts"/i);
  });
});
