import { execa } from 'execa';
import { Netns } from '../libs/testing/dist/index.js';
const ns = await Netns.create('qx');
console.log('created', ns.name);
const proc = execa('ip', ['netns', 'exec', ns.name, process.execPath, 'libs/testing/scripts/name-server.mjs', 'b1', '8080'], { reject: false, stdin: 'ignore' });
proc.stdout.on('data', (d) => console.log('data', String(d)));
setTimeout(async () => { proc.kill(); const r = await proc; console.log('exit', r.exitCode, r.stdout, r.stderr); await ns.delete(); }, 2000);
