import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventPublisher } from '@qnet/bus';
import { DATA_SOURCE, inTransaction, type SqlTx } from '@qnet/persistence';
import { DesiredStateService } from '../agent/desired-state.service.js';
import { BgpRepository, type SpeakerRow } from './bgp.repository.js';

export interface BgpEvent {
  resource: 'speaker' | 'peer' | 'advertisement';
  event: string;
  id: string;
  data: object;
}

export interface Change<T> {
  result: T;
  events: BgpEvent[];
}

/**
 * How every BGP change is made: in one transaction the node's next generation (its row lock
 * orders changes per node), the change and the node's new desired state; after the commit the
 * state goes to the agent and the events out on qnet.evt.bgp.*.
 */
@Injectable()
export class SpeakerChanges {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly repo: BgpRepository,
    private readonly desired: DesiredStateService,
    private readonly events: EventPublisher,
  ) {}

  async onNode<T>(nodeId: string, fn: (tx: SqlTx, generation: number) => Promise<Change<T>>) {
    const { change, state } = await inTransaction(this.ds, async (tx) => {
      const generation = await this.repo.nextGeneration(tx, nodeId);
      const change = await fn(tx, generation);
      return { change, state: await this.desired.render(tx, nodeId) };
    });
    this.desired.push(nodeId, state);
    for (const e of change.events) this.events.emit('bgp', e.resource, e.event, e.id, e.data);
    return change.result;
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
