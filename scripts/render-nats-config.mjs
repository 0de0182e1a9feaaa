#!/usr/bin/env node
// Renders deploy/nats/nats.conf for the compose stack: one user per component and one per agent
// host id given on the command line (default: node-1). Passwords are referenced as environment
// variables of the nats container (QNET_NATS_PASSWORD_<USER>), never written into the file.
import { writeFileSync } from 'node:fs';
import { composeNatsConfig } from '@qnet/stack';

const hostIds = process.argv.slice(2);
writeFileSync(
  new URL('../deploy/nats/nats.conf', import.meta.url),
  composeNatsConfig(hostIds.length ? hostIds : ['node-1']),
);
console.log('wrote deploy/nats/nats.conf');
