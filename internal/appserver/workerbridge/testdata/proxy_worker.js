'use strict';
// Test worker for workerbridge.Handler: goridge frames and the few protobuf
// fields it needs, written by hand (no npm packages), over pipes, tcp:// or
// unix:// (RR_RELAY). It answers by the context's "type":
//   connect    ConnectResponse{result{user: "w-" + name}}
//   rpc        method "echo": RPCResult{data: request data}
//              method "ctx":  RPCResult{data: the context JSON}
//              method "error": an ERROR frame; "hang": no answer;
//              "crash": exit(3); "garbage": text on the relay;
//              "badproto": a body that is not protobuf
//   any other  an empty body (an empty response)
const net = require('net');

const CONTROL = 0x01, ERROR = 0x40, PROTO = 0x80;

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

function frame(flags, options, payload) {
  const hl = 3 + options.length;
  const h = Buffer.alloc(hl * 4);
  h[0] = (1 << 4) | hl;
  h[1] = flags;
  h.writeUInt32LE(payload.length, 2);
  h.writeUInt32LE(crc32(h.subarray(0, 6)), 6);
  options.forEach((o, i) => h.writeUInt32LE(o, 12 + 4 * i));
  return Buffer.concat([h, payload]);
}

// --- protobuf: only length-delimited fields are read or written ---
function varint(buf, pos) {
  let v = 0, shift = 0;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, pos];
    shift += 7;
  }
}
function fields(buf) {
  const out = {};
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = varint(buf, pos);
    const num = Math.floor(key / 8), wt = key & 7;
    if (wt === 0) { [, pos] = varint(buf, pos); continue; }
    if (wt === 1) { pos += 8; continue; }
    if (wt === 5) { pos += 4; continue; }
    let len;
    [len, pos] = varint(buf, pos);
    out[num] = buf.subarray(pos, pos + len);
    pos += len;
  }
  return out;
}
function lenField(num, bytes) {
  const b = Buffer.from(bytes);
  const head = [num * 8 + 2];
  let n = b.length;
  while (n >= 0x80) { head.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  head.push(n);
  return Buffer.concat([Buffer.from(head), b]);
}

let out;
function reply(body) { out.write(frame(PROTO, [0], body)); }

function handle(f) {
  if (f.flags & CONTROL) {
    const msg = JSON.parse(f.payload.toString());
    if (msg.stop) process.exit(0);
    if (msg.pid) out.write(frame(CONTROL, [], Buffer.from(JSON.stringify({ pid: process.pid }))));
    return;
  }
  const ctxLen = f.options[0];
  const context = f.payload.subarray(0, ctxLen);
  const body = f.payload.subarray(ctxLen);
  const type = JSON.parse(context.toString()).type[0];
  const req = fields(body);
  if (type === 'connect') {
    const name = req[12] ? req[12].toString() : '';
    reply(lenField(1, lenField(1, 'w-' + name)));
    return;
  }
  if (type !== 'rpc') { reply(Buffer.alloc(0)); return; }
  const method = req[11] ? req[11].toString() : '';
  switch (method) {
    case 'echo': reply(lenField(1, lenField(1, req[12] || Buffer.alloc(0)))); return;
    case 'ctx': reply(lenField(1, lenField(1, context))); return;
    case 'error': out.write(frame(ERROR, [], Buffer.from('database is down'))); return;
    case 'hang': return;
    case 'crash': process.exit(3);
    case 'garbage': out.write('Warning: something printed to stdout\n'); return;
    case 'badproto': reply(Buffer.from([0xff, 0xff, 0xff])); return;
    default: reply(Buffer.alloc(0));
  }
}

let pending = Buffer.alloc(0);
function onData(chunk) {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  for (;;) {
    if (pending.length < 12) return;
    const hl = pending[0] & 0x0f;
    const total = hl * 4 + pending.readUInt32LE(2);
    if (pending.length < total) return;
    const options = [];
    for (let i = 3; i < hl; i++) options.push(pending.readUInt32LE(4 * i));
    const f = { flags: pending[1], options, payload: pending.subarray(hl * 4, total) };
    pending = pending.subarray(total);
    handle(f);
  }
}

const relay = process.env.RR_RELAY || 'pipes';
if (relay === 'pipes') {
  out = process.stdout;
  process.stdin.on('data', onData);
  process.stdin.on('end', () => process.exit(0));
} else {
  const m = /^(tcp|unix):\/\/(.+)$/.exec(relay);
  if (!m) { process.stderr.write('bad RR_RELAY ' + relay + '\n'); process.exit(2); }
  const i = m[2].lastIndexOf(':');
  const sock = m[1] === 'unix' ? net.connect(m[2]) : net.connect(Number(m[2].slice(i + 1)), m[2].slice(0, i));
  sock.setNoDelay(true);
  out = sock;
  sock.on('data', onData);
  sock.on('end', () => process.exit(0));
  sock.on('error', () => process.exit(2));
}
