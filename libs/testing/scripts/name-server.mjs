// A backend that answers with its name: `node name-server.mjs <name> <port>` serves TCP (the name,
// then the connection stays open until the client closes it) and UDP (the name per datagram).
import dgram from 'node:dgram';
import net from 'node:net';

const [name, port] = process.argv.slice(2);
net
  .createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(`${name}\n`);
  })
  .listen(Number(port), () => process.stdout.write('ready\n'));
const udp = dgram.createSocket('udp4');
udp.on('message', (_msg, from) => udp.send(`${name}\n`, from.port, from.address));
udp.bind(Number(port));
