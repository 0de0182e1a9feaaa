#!/usr/bin/env node
// `npm run events -- [subject]`: prints QuantumNet events as they happen, one JSON document a line,
// for machines without the NATS CLI. Same thing as: nats sub --user observer ... 'qnet.evt.>'
// NATS_URL defaults to nats://127.0.0.1:4222; NATS_USER/NATS_PASSWORD as printed by `npm start`.
import { connect } from '@nats-io/transport-node';

const subject = process.argv[2] ?? 'qnet.evt.>';
const url = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
const user = process.env.NATS_USER ?? (url.username || undefined);
const pass = process.env.NATS_PASSWORD ?? (url.password || undefined);
const nc = await connect({
  servers: `${url.hostname}:${url.port || 4222}`,
  user,
  pass,
  inboxPrefix: user ? `_INBOX.${user}` : undefined,
});
console.error(`watching ${subject} on ${url.host} (Ctrl-C to stop)`);
for await (const m of nc.subscribe(subject)) console.log(`${m.subject} ${m.string()}`);
