#!/usr/bin/env node
// `npm run events -- [subject]`: prints QuantumNet events as they happen, one JSON document a line,
// for machines without the NATS CLI. Same thing as: nats sub --creds <observer.creds> 'qnet.evt.>'
// NATS_URL defaults to nats://127.0.0.1:4222; NATS_CREDS: the observer's credentials file, as
// printed by `npm start` (.qnet/nats/creds/observer.creds).
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';

const subject = process.argv[2] ?? 'qnet.evt.>';
const url = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
const creds = process.env.NATS_CREDS;
const nc = await connect({
  servers: `${url.hostname}:${url.port || 4222}`,
  ...(creds ? { authenticator: credsAuthenticator(readFileSync(creds)) } : {}),
  inboxPrefix: creds ? '_INBOX.observer' : undefined,
});
console.error(`watching ${subject} on ${url.host} (Ctrl-C to stop)`);
for await (const m of nc.subscribe(subject)) console.log(`${m.subject} ${m.string()}`);
