import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AgentMode, Capability, HostHealth } from '@qnet/contracts';

@Entity({ name: 'hosts' })
export class HostEntity {
  @PrimaryColumn('text') id!: string;
  @Column('text') hostname!: string;
  @Column('inet') underlay_ip!: string;
  @Column('text', { array: true }) capabilities!: Capability[];
  @Column('text', { array: true }) drivers!: string[];
  @Column('text') mode!: AgentMode;
  @Column('text') agent_version!: string;
  @Column('text') description!: string;
  @Column('jsonb') labels!: Record<string, string>;
  @Column('jsonb') applied!: Record<string, number>;
  /** Last health the sweeper recorded, to detect transitions; reads derive health from last_seen_at. */
  @Column('text') health!: HostHealth;
  @Column('timestamptz') registered_at!: Date;
  @Column('timestamptz') last_seen_at!: Date;
}
