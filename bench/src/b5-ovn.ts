import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LbSpec } from '@qnet/contracts';
import { ovnLbDriver } from '@qnet/drivers';
import { OvnNorthbound } from '@qnet/testing';
import { round } from './measure.js';

/**
 * B5: 1,000 members of one LB written to a real OVN northbound ovsdb-server as the lb_ovn driver
 * does it — ONE ovn-nbctl transaction — against one ovn-nbctl call per operation (a naive
 * driver: `--may-exist lb-add` with the backend list as it grows). Target: ≥ 50× faster.
 */
export interface B5Result {
  members: number;
  one_transaction_ms: number;
  one_call_per_member_ms: number;
  ratio: number;
  meets_target: boolean;
  figures: Record<string, string | number>;
}

const MEMBERS = 1_000;
const LB_ID = '0b5b5b5b-0000-4000-8000-000000000001';
const VIP = '10.0.0.100:80';
const address = (i: number) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export async function runB5(): Promise<B5Result> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qnet-b5-'));
  const nb = await OvnNorthbound.start(dir);
  try {
    const spec: LbSpec = {
      load_balancers: [
        {
          id: LB_ID,
          vip: '10.0.0.100',
          algorithm: 'SOURCE_IP',
          network_cidr: '10.0.0.0/16',
          logical_switch: 'b5-switch',
          listeners: [{ port: 80, protocol: 'TCP' }],
          members: Array.from({ length: MEMBERS }, (_, i) => ({
            id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            address: address(i),
            port: 8080,
            weight: 1,
          })),
        },
      ],
    };
    const driver = ovnLbDriver({ db: nb.db, hostId: 'b5' });
    const [change] = driver.plan(spec, []);
    const argv = change as string[];
    let t0 = performance.now();
    await execa(argv[0]!, argv.slice(1));
    const oneTxn = performance.now() - t0;
    const written = (await nb.nbctl('--bare', '--columns=vips', 'list', 'Load_Balancer')).split(
      ',',
    );
    if (written.length !== MEMBERS)
      throw new Error(`one transaction wrote ${written.length} backends`);

    await nb.nbctl('lb-del', `qnet-${LB_ID}-tcp`);
    const backends: string[] = [];
    t0 = performance.now();
    for (let i = 0; i < MEMBERS; i++) {
      backends.push(`${address(i)}:8080`);
      await nb.nbctl('--may-exist', 'lb-add', 'naive', VIP, backends.join(','), 'tcp');
    }
    const perCall = performance.now() - t0;
    const ratio = round(perCall / oneTxn);
    return {
      members: MEMBERS,
      one_transaction_ms: round(oneTxn),
      one_call_per_member_ms: round(perCall),
      ratio,
      meets_target: ratio >= 50,
      figures: {
        '1,000 members, ONE ovn-nbctl transaction (the lb_ovn driver), ms': round(oneTxn),
        '1,000 members, one ovn-nbctl call per member (naive), ms': round(perCall),
        'ratio (target ≥ 50×)': `${ratio}× — ${ratio >= 50 ? 'meets' : 'MISSES'} target`,
      },
    };
  } finally {
    await nb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
