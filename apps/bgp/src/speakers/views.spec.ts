import { isCommunity } from '@qnet/contracts';
import { peerStateOf } from '../agent/session-status.service.js';
import { uptimeText } from './views.js';

describe('bgp views', () => {
  it('writes uptime as API 000 does (2h35m) from the largest unit down', () => {
    expect(uptimeText(0)).toBe('0s');
    expect(uptimeText(45)).toBe('45s');
    expect(uptimeText(125)).toBe('2m5s');
    expect(uptimeText(2 * 3600 + 35 * 60 + 7)).toBe('2h35m');
    expect(uptimeText(86400 * 3 + 4 * 3600)).toBe('3d4h');
  });

  it("maps FRR's FSM states to the API's", () => {
    expect(peerStateOf('Established')).toBe('ESTABLISHED');
    expect(peerStateOf('OpenSent')).toBe('OPENSENT');
    expect(peerStateOf('Idle (Admin)')).toBe('IDLE');
    expect(peerStateOf('Clearing')).toBe('IDLE');
  });

  it('accepts standard, large and well-known communities only', () => {
    for (const c of ['65001:100', '0:0', '65535:65535', '4200000000:1:2', 'no-export'])
      expect(isCommunity(c)).toBe(true);
    for (const c of ['65536:1', '1:65536', '1', '1:2:3:4', 'a:b', '65001:100\n', '4294967296:1:1'])
      expect(isCommunity(c)).toBe(false);
  });
});
