// Connections from inside a namespace, printed as one JSON line of the names that answered
// (or "ERR:<code>"). Modes:
//   tcp  <host> <port> <count> [source…]  one connection after another, each closed after the name
//   udp  <host> <port> <count>            one datagram per new socket (a new flow each)
//   hold <host> <port> <count>            opens them all, prints the names, holds until stdin ends
//   loop <host> <port> <ms> <every-ms>    a connection every <every-ms> for <ms>: [start, end, name]
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, host, portText, countText, ...rest] = process.argv.slice(2);
const port = Number(portText);

function tcp(localAddress, keep = false) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve({ name: 'ERR:TIMEOUT' });
    });
    socket.once('error', (err) => resolve({ name: `ERR:${err.code}` }));
    let buf = '';
    socket.on('data', (d) => {
      buf += d;
      if (!buf.includes('\n')) return;
      socket.setTimeout(0);
      if (!keep) socket.destroy();
      resolve({ name: buf.trim(), socket });
    });
  });
}

function udp() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve('ERR:TIMEOUT');
    }, 2000);
    s.once('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString().trim());
    });
    s.once('error', (err) => {
      clearTimeout(t);
      s.close();
      resolve(`ERR:${err.code}`);
    });
    s.send('hi\n', port, host);
  });
}

const out = [];
if (mode === 'tcp') {
  for (let i = 0; i < Number(countText); i++)
    out.push((await tcp(rest.length ? rest[i % rest.length] : undefined)).name);
  process.stdout.write(JSON.stringify(out) + '\n');
} else if (mode === 'udp') {
  for (let i = 0; i < Number(countText); i++) out.push(await udp());
  process.stdout.write(JSON.stringify(out) + '\n');
} else if (mode === 'hold') {
  const held = [];
  for (let i = 0; i < Number(countText); i++) held.push(await tcp(undefined, true));
  process.stdout.write(JSON.stringify(held.map((h) => h.name)) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
} else if (mode === 'loop') {
  const until = Date.now() + Number(countText);
  while (Date.now() < until) {
    const started = Date.now();
    const { name } = await tcp();
    out.push([started, Date.now(), name]);
    await new Promise((r) => setTimeout(r, Math.max(0, Number(rest[0]) - (Date.now() - started))));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
