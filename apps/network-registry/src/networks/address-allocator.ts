import { Injectable } from '@nestjs/common';
import { QnetError } from '@qnet/contracts';
import {
  addressAt,
  cidrContainsIp,
  isNetworkOrBroadcast,
  offsetOf,
  parseCidr,
  usableOffsets,
} from '@qnet/netaddr';
import type { SqlTx } from '@qnet/persistence';
import { parseReservedRanges } from './ipam.js';
import { ipAllocations, type AddressOwner } from './ip-allocation.repository.js';
import type { NetworkRow } from './network.repository.js';

export type { AddressOwner } from './ip-allocation.repository.js';

/**
 * IPAM of one network: hands out the requested host address, or else the lowest address never
 * used, or else the one freed longest ago (ip_releases), so an address does not change hands
 * while others are free. The (network, address) primary key of ip_allocations is what makes two
 * concurrent requests for the same address end in one winner.
 */
@Injectable()
export class AddressAllocator {
  /** `field` names the caller's request field in errors. */
  async allocate(
    tx: SqlTx,
    network: Pick<NetworkRow, 'id' | 'cidr' | 'reserved_ranges'>,
    requested: string | undefined,
    owner: AddressOwner,
    field: string,
  ): Promise<string> {
    const cidr = parseCidr(network.cidr!);
    const reserved = parseReservedRanges(network.reserved_ranges, cidr);
    let address: string;
    if (requested) {
      if (!cidrContainsIp(cidr, requested))
        throw QnetError.invalid(field, `${requested} is not inside ${cidr.text}`);
      if (isNetworkOrBroadcast(cidr, requested))
        throw QnetError.invalid(field, `${requested} is the network or broadcast address`);
      const o = offsetOf(cidr, requested);
      if (reserved.some((r) => o >= r.lo && o <= r.hi))
        throw QnetError.invalid(field, `${requested} is in a reserved range`);
      address = requested;
    } else {
      const { first, last } = usableOffsets(cidr);
      const range = { network: addressAt(cidr, 0n), first, last, reserved };
      const o =
        (await ipAllocations.lowestUnusedOffset(tx, network.id, range)) ??
        (await ipAllocations.oldestReleasedOffset(tx, network.id, range));
      if (o === undefined)
        throw new QnetError(
          'aborted',
          `${field}: no free address left in ${cidr.text} (pool exhausted)`,
          [{ field, message: 'pool exhausted' }],
        );
      address = addressAt(cidr, o);
    }
    await ipAllocations.insert(tx, network.id, address, owner);
    return address;
  }
}
