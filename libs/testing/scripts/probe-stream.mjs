// A probe stream through the tunnels, from inside namespaces (seed 004's loss measurements).
//   echo <address> <port>            answers every datagram to its sender; prints "ready", then
//                                    one line per new source address it hears from
//   send <host> <port> <pps> <ms> [bytes]  numbered datagrams (32 bytes, or [bytes]) at <pps> for
//                                    <ms>; prints one JSON line: {sent, lost, longest, started_at,
//                                    lost_seqs} — longest = the most consecutive lost (at 1,000 pps
//                                    the loss window in ms), lost_seqs the first 100 lost
import dgram from 'node:dgram';

const [mode, host, portText, ppsText, msText, bytesText = '32'] = process.argv.slice(2);
const port = Number(portText);
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');

if (mode === 'echo') {
  const seen = new Set();
  socket.on('message', (m, from) => {
    socket.send(m, from.port, from.address);
    if (!seen.has(from.address)) {
      seen.add(from.address);
      process.stdout.write(`${from.address}\n`);
    }
  });
  socket.bind(port, host, () => process.stdout.write('ready\n'));
} else if (mode === 'send') {
  const pps = Number(ppsText);
  const total = Math.round((pps * Number(msText)) / 1000);
  const answered = new Uint8Array(total);
  socket.on('message', (m) => {
    if (m.length >= 4) answered[m.readUInt32BE(0)] = 1;
  });
  socket.on('error', () => undefined); // a send refused while no route exists counts as lost
  let startedAt = 0;
  socket.bind(0, () => {
    startedAt = Date.now();
    const start = performance.now();
    let next = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * pps) / 1000) + 1);
      for (; next < due; next++) {
        const b = Buffer.alloc(Number(bytesText));
        b.writeUInt32BE(next, 0);
        socket.send(b, port, host);
      }
      // A timer, not a busy loop: the stream must not starve what it measures of CPU.
      if (next < total) setTimeout(tick, 1);
      else setTimeout(report, 1000);
    };
    tick();
  });
  const report = () => {
    let lost = 0;
    let run = 0;
    let longest = 0;
    const first = [];
    answered.forEach((a, seq) => {
      if (a) run = 0;
      else {
        lost++;
        longest = Math.max(longest, ++run);
        if (first.length < 100) first.push(seq);
      }
    });
    process.stdout.write(
      `${JSON.stringify({ sent: total, lost, longest, started_at: startedAt, lost_seqs: first })}\n`,
    );
    socket.close();
  };
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
