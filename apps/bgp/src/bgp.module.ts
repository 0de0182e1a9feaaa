import { Module } from '@nestjs/common';

/** The bgp service's feature module: its controllers and providers are added by its own issue. */
@Module({})
export class BgpModule {}
