import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  QnetError,
  type ReleaseAddressRequest,
  type ReserveAddressRequest,
  type ReservedAddress,
} from '@qnet/contracts';
import { canonicalIp } from '@qnet/netaddr';
import { autocommit, DATA_SOURCE, explainViolation, inTransaction } from '@qnet/persistence';
import { AddressAllocator } from './address-allocator.js';
import { ipAllocations } from './ip-allocation.repository.js';
import { NetworkRepository } from './network.repository.js';

/** Addresses held for other services (LB VIPs), in the same table that keeps NICs apart. */
@Injectable()
export class ReservationService {
  constructor(
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    private readonly networks: NetworkRepository,
    private readonly addresses: AddressAllocator,
  ) {}

  async reserve(req: ReserveAddressRequest): Promise<ReservedAddress> {
    const field = req.field ?? 'address';
    return inTransaction(this.ds, async (tx) => {
      const network = await this.networks.lock(tx, req.network_id).catch((err: unknown) => {
        if (err instanceof QnetError && err.code === 'not_found')
          throw new QnetError('not_found', `network_id: network ${req.network_id} not found`, [
            { field: 'network_id', message: 'no such network' },
          ]);
        throw err;
      });
      if (!network.cidr)
        throw new QnetError('failed_precondition', `network ${network.id} has no cidr`, [
          { field: 'network_id', message: 'the network has no cidr to reserve from' },
        ]);
      if (req.address) {
        const holder = await ipAllocations.reservationHolder(tx, network.id, req.address);
        if (holder === req.owner_id)
          return { network_id: network.id, address: canonicalIp(req.address), cidr: network.cidr };
      }
      const address = await this.addresses
        .allocate(tx, network, req.address, { kind: 'reservation', id: req.owner_id }, field)
        .catch((err: unknown) =>
          explainViolation(err, {
            ip_allocations_pkey: { field, message: 'is already in use in the network' },
          }),
        );
      return { network_id: network.id, address, cidr: network.cidr };
    });
  }

  async release(req: ReleaseAddressRequest): Promise<void> {
    await ipAllocations.releaseReservation(autocommit(this.ds), req);
  }
}
