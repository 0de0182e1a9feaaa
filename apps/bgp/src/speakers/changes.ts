import { Injectable } from '@nestjs/common';
import type { SqlTx } from '@qnet/persistence';
import { DesiredStateChanges, type Change } from '@qnet/service';
import { DRIVER } from '../agent/frr-render.js';
import { BgpRepository, type SpeakerRow } from './bgp.repository.js';

export type { Change } from '@qnet/service';

/** How every BGP change is made: the desired-state core, on the node's `frr` driver. */
@Injectable()
export class SpeakerChanges {
  constructor(
    private readonly core: DesiredStateChanges,
    private readonly repo: BgpRepository,
  ) {}

  onNode<T>(nodeId: string, fn: (tx: SqlTx, generation: number) => Promise<Change<T>>) {
    const node = { host_id: nodeId, driver: DRIVER };
    return this.core.run(async (tx, touch) => fn(tx, (await touch.hosts([node]))(node)));
  }

  /** A change to an existing speaker, its row locked and marked changed (404 if it is gone). */
  async onSpeaker<T>(
    speakerId: string,
    fn: (tx: SqlTx, speaker: SpeakerRow) => Promise<Change<T>>,
  ): Promise<T> {
    const nodeId = await this.repo.nodeOf(speakerId);
    return this.onNode(nodeId, async (tx, generation) => {
      const speaker = await this.repo.speaker(tx, speakerId, true);
      await this.repo.touchSpeaker(tx, speakerId, generation);
      return fn(tx, speaker);
    });
  }
}
