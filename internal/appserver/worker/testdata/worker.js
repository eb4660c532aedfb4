'use strict';
// Test worker for the worker package: speaks goridge v1 frames by hand
// (no npm packages) over pipes, tcp:// or unix:// (RR_RELAY), and echoes
// each request with its body reversed. Faults are chosen per request by a
// body starting with "cmd:", or for every request/start-up by flags:
//   --exit-at-start            exit(1) before the handshake
//   --exit-at-start-if=FILE    same, only while FILE exists
//   --crash-after=N            exit(3) on request N+1 instead of answering
//   --mode=CMD                 treat every request as body "cmd:CMD"
//   --no-stop                  ignore stop frames (to test the kill path)
//   --stop-once=FILE           answer {"stop":true} if FILE exists (removing it)
// Body commands: hang, crash, garbage, error, stop, pid, leak:MB,
// log:TEXT, sleep:MS, spawn (starts `sleep 60` in our process group and
// answers its pid), env:NAME (answers the variable's value).
const fs = require('fs');
const net = require('net');
const { spawn } = require('child_process');

const args = process.argv.slice(2);
const flag = (name) => {
  const a = args.find((x) => x === '--' + name || x.startsWith('--' + name + '='));
  if (a === undefined) return undefined;
  const i = a.indexOf('=');
  return i < 0 ? true : a.slice(i + 1);
};

if (flag('exit-at-start')) {
  process.stderr.write('exiting at start as asked\n');
  process.exit(1);
}
const gate = flag('exit-at-start-if');
if (gate && fs.existsSync(gate)) {
  process.stderr.write('exiting at start: ' + gate + ' exists\n');
  process.exit(1);
}
const crashAfter = flag('crash-after') ? Number(flag('crash-after')) : -1;
const everyMode = flag('mode');
const noStop = !!flag('no-stop');
const stopOnce = flag('stop-once');
function claimStop() {
  try {
    fs.unlinkSync(stopOnce);
    return true;
  } catch (e) {
    return false;
  }
}

const CONTROL = 0x01, JSONC = 0x08, ERROR = 0x40;
const STREAM = 0x01;

const table = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  table[i] = c;
}
function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = table[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function encode(flags, options, payload, byte10 = 0) {
  const hl = 3 + options.length;
  const h = Buffer.alloc(hl * 4);
  h[0] = (1 << 4) | hl;
  h[1] = flags;
  h.writeUInt32LE(payload.length, 2);
  h.writeUInt32LE(crc32(h.subarray(0, 6)), 6);
  h[10] = byte10;
  options.forEach((o, i) => h.writeUInt32LE(o, 12 + 4 * i));
  return Buffer.concat([h, payload]);
}

let out;
function send(buf) { out.write(buf); }

let pending = Buffer.alloc(0);
function onData(chunk) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  for (;;) {
    if (pending.length < 12) return;
    const hl = pending[0] & 0x0f;
    const size = pending.readUInt32LE(2);
    const total = hl * 4 + size;
    if (pending.length < total) return;
    const options = [];
    for (let i = 3; i < hl; i++) options.push(pending.readUInt32LE(4 * i));
    const frame = { flags: pending[1], options, payload: pending.subarray(hl * 4, total) };
    pending = pending.subarray(total);
    handle(frame);
  }
}

const leaks = [];
let jobs = 0;

function handle(f) {
  if (f.flags & CONTROL) {
    const msg = JSON.parse(f.payload.toString());
    if (msg.stop) {
      if (noStop) return;
      process.exit(0);
    }
    if (msg.pid) send(encode(CONTROL, [], Buffer.from(JSON.stringify({ pid: process.pid }))));
    return;
  }
  jobs++;
  if (crashAfter >= 0 && jobs > crashAfter) {
    process.stderr.write('crashing after ' + crashAfter + ' jobs\n');
    process.exit(3);
  }
  const ctxLen = f.options[0];
  const context = f.payload.subarray(0, ctxLen);
  let body = f.payload.subarray(ctxLen).toString();
  if (everyMode && !body.startsWith('cmd:')) body = 'cmd:' + everyMode;
  if (stopOnce && claimStop()) body = 'cmd:stop';
  const reply = (ctx, b) => {
    const c = Buffer.from(ctx);
    send(encode(0, [c.length], Buffer.concat([c, Buffer.from(b)])));
  };
  if (!body.startsWith('cmd:')) {
    reply(context, body.split('').reverse().join(''));
    return;
  }
  const [cmd, ...rest] = body.slice(4).split(':');
  const arg = rest.join(':');
  switch (cmd) {
    case 'hang':
      return;
    case 'crash':
      process.exit(3);
    case 'garbage':
      send(Buffer.from('Hello from a worker that prints to stdout\n'));
      return;
    case 'error':
      send(encode(ERROR, [], Buffer.from('boom: ' + (arg || 'worker error'))));
      return;
    case 'stop':
      reply('{"stop":true}', '');
      return;
    case 'stream':
      send(encode(0, [0], Buffer.from('part'), STREAM));
      return;
    case 'nooptions':
      send(encode(0, [], Buffer.from('no options')));
      return;
    case 'pid':
      reply(context, String(process.pid));
      return;
    case 'leak': {
      const b = Buffer.alloc(Number(arg) * 1024 * 1024, 1);
      leaks.push(b);
      reply(context, 'leaked ' + arg);
      return;
    }
    case 'log':
      process.stderr.write(arg + '\n');
      reply(context, 'logged');
      return;
    case 'sleep':
      setTimeout(() => reply(context, 'slept ' + arg), Number(arg));
      return;
    case 'spawn': {
      const child = spawn('sleep', ['60'], { stdio: 'ignore' });
      reply(context, String(child.pid));
      return;
    }
    case 'env':
      reply(context, process.env[arg] === undefined ? '<unset>' : process.env[arg]);
      return;
    default:
      send(encode(ERROR, [], Buffer.from('unknown command ' + cmd)));
  }
}

const relay = process.env.RR_RELAY || 'pipes';
if (relay === 'pipes') {
  out = process.stdout;
  process.stdin.on('data', onData);
  process.stdin.on('end', () => process.exit(0));
} else {
  const m = /^(tcp|unix):\/\/(.+)$/.exec(relay);
  if (!m) {
    process.stderr.write('bad RR_RELAY ' + relay + '\n');
    process.exit(2);
  }
  let sock;
  if (m[1] === 'unix') {
    sock = net.connect(m[2]);
  } else {
    const i = m[2].lastIndexOf(':');
    sock = net.connect(Number(m[2].slice(i + 1)), m[2].slice(0, i));
  }
  sock.setNoDelay && sock.setNoDelay(true);
  out = sock;
  sock.on('data', onData);
  sock.on('end', () => process.exit(0));
  sock.on('error', (e) => {
    process.stderr.write('relay error: ' + e.message + '\n');
    process.exit(2);
  });
}
