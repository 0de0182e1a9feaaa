#!/usr/bin/env node
// Writes deploy/nats for the compose stack (not checked in): authority.json (the deployment's NATS
// keys, made on the first run and kept, 0600), nats.conf (operator mode) and creds/<user>.creds for
// every component and each agent host id given on the command line (default: node-1). Hosts added
// later enroll with a join token instead (README, "Adding hosts").
import { writeComposeNats } from '@qnet/stack';

const hostIds = process.argv.slice(2);
await writeComposeNats(
  new URL('../deploy/nats', import.meta.url).pathname,
  hostIds.length ? hostIds : ['node-1'],
);
console.log('wrote deploy/nats (authority.json, nats.conf, creds/)');
