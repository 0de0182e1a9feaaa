import type { EventEnvelope } from '@qnet/contracts';
import { subjectsOf, visibleTo } from './event-stream.js';

const event = (type: string, project_id?: string): EventEnvelope => ({
  id: '1',
  type,
  occurred_at: '',
  resource_id: 'r',
  ...(project_id ? { project_id } : {}),
  data: {},
});

describe('event stream', () => {
  it('subscribes to what the type filter names, and refuses anything else', () => {
    expect(subjectsOf(undefined)).toEqual(['qnet.evt.>']);
    expect(subjectsOf('registry,lb.member,vpn.connection.created,registry')).toEqual([
      'qnet.evt.registry.>',
      'qnet.evt.lb.member.>',
      'qnet.evt.vpn.connection.created',
    ]);
    for (const bad of ['registry.>', 'a.b.c.d', 'Registry', 'a..b', ['a', 'b']])
      expect(() => subjectsOf(bad)).toThrow(/type/);
  });

  it("shows a project its own events and hosts', the admin everything", () => {
    expect(visibleTo('a', event('registry.network.created', 'a'))).toBe(true);
    expect(visibleTo('a', event('registry.network.created', 'b'))).toBe(false);
    expect(visibleTo('a', event('registry.host.updated'))).toBe(true);
    expect(visibleTo('a', event('device.device.registered'))).toBe(false);
    expect(visibleTo(undefined, event('device.device.registered'))).toBe(true);
  });
});
