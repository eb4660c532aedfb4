'use strict';
// goridge v1 for Node: the frame format RoadRunner (and `spindle app`) speak
// with workers, the worker loop over pipes or sockets, and an RPC client for
// rpc.listen. Plain Node, no dependencies.
const net = require('net');

const FLAGS = { CONTROL: 0x01, RAW: 0x04, JSON: 0x08, ERROR: 0x40, PROTO: 0x80 };

const CRC_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[i] = c;
}
function crc32(buf) {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Encodes one frame: 12-byte header (CRC over bytes 0..5), options, payload. */
function encodeFrame(flags, options, payload) {
  const hl = 3 + options.length;
  const h = Buffer.alloc(hl * 4);
  h[0] = (1 << 4) | hl;
  h[1] = flags;
  h.writeUInt32LE(payload.length, 2);
  h.writeUInt32LE(crc32(h.subarray(0, 6)), 6);
  options.forEach((o, i) => h.writeUInt32LE(o, 12 + 4 * i));
  return Buffer.concat([h, payload]);
}

/** Returns a function that accepts stream chunks and calls onFrame per complete frame. */
function frameReader(onFrame) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 12) {
      const hl = pending[0] & 0x0f;
      if (pending[0] >> 4 !== 1 || hl < 3 || crc32(pending.subarray(0, 6)) !== pending.readUInt32LE(6)) {
        throw new Error('goridge: not a frame (bad version, header length or CRC)');
      }
      const total = hl * 4 + pending.readUInt32LE(2);
      if (pending.length < total) return;
      const options = [];
      for (let i = 3; i < hl; i++) options.push(pending.readUInt32LE(4 * i));
      const frame = { flags: pending[1], options, payload: pending.subarray(hl * 4, total) };
      pending = pending.subarray(total);
      onFrame(frame);
    }
  };
}

/** Connects to tcp://host:port or unix:///path. */
function connect(dsn) {
  const m = /^(tcp|unix):\/\/(.+)$/.exec(dsn);
  if (!m) throw new Error(`goridge: unsupported address ${dsn} (want tcp://host:port or unix:///path)`);
  if (m[1] === 'unix') return net.connect(m[2]);
  const i = m[2].lastIndexOf(':');
  const sock = net.connect(Number(m[2].slice(i + 1)), m[2].slice(0, i));
  sock.setNoDelay(true);
  return sock;
}

/**
 * Opens the relay named by RR_RELAY: stdin/stdout for "pipes" (the default),
 * else one tcp:// or unix:// socket. Returns { input, out }; the process
 * exits when the server closes the relay. serveWorker is built on it, and it
 * is exported for workers that need the raw relay rather than the loop
 * (Spindle's own test workers write deliberately broken frames to it).
 */
function openRelay() {
  const relay = process.env.RR_RELAY || 'pipes';
  if (relay === 'pipes') {
    process.stdin.on('end', () => process.exit(0));
    return { input: process.stdin, out: process.stdout };
  }
  const sock = connect(relay);
  sock.on('error', (e) => { process.stderr.write(`relay error: ${e.message}\n`); process.exit(2); });
  sock.on('end', () => process.exit(0));
  return { input: sock, out: sock };
}

/**
 * Runs the worker loop on RR_RELAY (pipes by default). handle(context, body)
 * returns (or resolves to) the reply body Buffer; a thrown error is sent as an
 * ERROR frame, which the server logs and answers with a temporary internal
 * error. Requests arrive one at a time: the next is sent after the reply.
 * handle also gets the relay's output stream as a third argument; a worker
 * has no use for it, but Spindle's test worker writes garbage to it to check
 * that the server survives a broken worker.
 */
function serveWorker(handle) {
  const { input, out } = openRelay();
  const send = (flags, options, payload) => out.write(encodeFrame(flags, options, payload));
  const onFrame = async (f) => {
    if (f.flags & FLAGS.CONTROL) {
      const msg = JSON.parse(f.payload.toString() || '{}');
      if (msg.stop) process.exit(0);
      if (msg.pid) send(FLAGS.CONTROL, [], Buffer.from(JSON.stringify({ pid: process.pid })));
      return;
    }
    const n = f.options[0] || 0;
    const context = JSON.parse(f.payload.subarray(0, n).toString() || '{}');
    const body = f.payload.subarray(n);
    try {
      const reply = await handle(context, body, out);
      send(FLAGS.PROTO, [0], Buffer.from(reply || []));
    } catch (e) {
      process.stderr.write(`worker: ${e.stack || e}\n`);
      send(FLAGS.ERROR, [], Buffer.from(String(e.message || e)));
    }
  };
  // Requests are strictly sequential, so a promise chain keeps replies in order.
  let chain = Promise.resolve();
  input.on('data', frameReader((f) => { chain = chain.then(() => onFrame(f)); }));
}

/** A goridge RPC client for rpc.listen (RR_RPC): call(method, Buffer, codec) → Buffer. */
class RPC {
  constructor(dsn = process.env.RR_RPC || 'tcp://127.0.0.1:6001') {
    this.dsn = dsn;
    this.seq = 0;
    this.pending = new Map();
    this.sock = null;
  }

  socket() {
    if (this.sock) return this.sock;
    this.sock = connect(this.dsn);
    this.sock.on('data', frameReader((f) => {
      const [seq, mlen] = f.options;
      const p = this.pending.get(seq);
      if (!p) return;
      this.pending.delete(seq);
      const body = f.payload.subarray(mlen);
      if (f.flags & FLAGS.ERROR) p.reject(new Error(`rpc ${p.method}: ${body.toString()}`));
      else p.resolve(body);
    }));
    const fail = (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
      this.sock = null;
    };
    this.sock.on('error', fail);
    this.sock.on('close', () => fail(new Error('rpc connection closed')));
    return this.sock;
  }

  call(method, body, codec = FLAGS.PROTO, timeoutMs = 5000) {
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const m = Buffer.from(method);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`rpc ${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, {
        method,
        resolve: (b) => { clearTimeout(timer); resolve(b); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.socket().write(encodeFrame(codec, [seq, m.length], Buffer.concat([m, Buffer.from(body)])));
    });
  }
}

module.exports = { FLAGS, crc32, encodeFrame, frameReader, openRelay, serveWorker, RPC };
