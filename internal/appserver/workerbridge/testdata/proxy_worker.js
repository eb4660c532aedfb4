'use strict';
// Test worker for workerbridge.Handler: the few protobuf fields it needs,
// written by hand (no npm packages), on the goridge worker loop of the Node
// example users copy, over pipes, tcp:// or unix:// (RR_RELAY). It answers
// by the context's "type":
//   connect    ConnectResponse{result{user: "w-" + name}}
//   rpc        method "echo": RPCResult{data: request data}
//              method "ctx":  RPCResult{data: the context JSON}
//              method "error": an ERROR frame; "hang": no answer;
//              "crash": exit(3); "garbage": text on the relay;
//              "badproto": a body that is not protobuf
//   map_publish  MapPublishResponse{result{key: "w-" + key, data: request data}}
//   map_remove   MapRemoveResponse{error{code: 1403, message: "kept " + key}}
//   shared_poll_refresh  SharedPollRefreshResponse{result{items: per requested
//              item {key, data: {"key": key, "was": version}, version: version + 1},
//              or {key, removed: true} for keys starting with "gone";
//              epoch: "w-" + channel}}; channel "poll:down": error{1500, "store down"}
//   any other  an empty body (an empty response)
const path = require('path');
// The example's framing and loop, so that the bridge is tested against the
// worker code users run.
const { serveWorker } = require(path.join(__dirname, '..', '..', '..', '..', 'examples', 'workers', 'node', 'goridge.js'));

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

function varField(num, n) {
  const out = [num * 8];
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
  return Buffer.from(out);
}

// each calls fn(num, value) for every field of buf in order, repeated ones
// included: value is a number for varints, a Buffer for length-delimited.
function each(buf, fn) {
  let pos = 0;
  while (pos < buf.length) {
    let key, v;
    [key, pos] = varint(buf, pos);
    const num = Math.floor(key / 8), wt = key & 7;
    if (wt === 0) { [v, pos] = varint(buf, pos); fn(num, v); continue; }
    if (wt === 1) { pos += 8; continue; }
    if (wt === 5) { pos += 4; continue; }
    let len;
    [len, pos] = varint(buf, pos);
    fn(num, buf.subarray(pos, pos + len));
    pos += len;
  }
}

/** The SharedPollRefreshResponse for a SharedPollRefreshRequest body. */
function sharedPoll(body) {
  let channel = '';
  const items = [];
  each(body, (num, v) => {
    if (num === 1) channel = v.toString();
    if (num !== 2) return;
    const it = { key: '', version: 0 };
    each(v, (n, x) => {
      if (n === 1) it.key = x.toString();
      if (n === 2) it.version = x;
    });
    items.push(it);
  });
  if (channel === 'poll:down') return lenField(2, Buffer.concat([varField(1, 1500), lenField(2, 'store down')]));
  const out = items.map(({ key, version }) => lenField(1, key.startsWith('gone')
    ? Buffer.concat([lenField(1, key), varField(4, 1)])
    : Buffer.concat([lenField(1, key), lenField(2, JSON.stringify({ key, was: version })), varField(3, version + 1)])));
  return lenField(1, Buffer.concat([...out, lenField(2, 'w-' + channel)]));
}

// noAnswer is a reply that never comes: the loop then sends nothing, and
// the server must give up on its own.
const noAnswer = () => new Promise(() => {});

serveWorker((context, body, relay) => {
  const type = context.type[0];
  const req = fields(body);
  if (type === 'connect') {
    const name = req[12] ? req[12].toString() : '';
    return lenField(1, lenField(1, 'w-' + name));
  }
  if (type === 'map_publish') {
    const key = req[12] ? req[12].toString() : '';
    return lenField(1, Buffer.concat([lenField(1, 'w-' + key), lenField(2, req[13] || Buffer.alloc(0))]));
  }
  if (type === 'map_remove') {
    const key = req[12] ? req[12].toString() : '';
    return lenField(2, Buffer.concat([varField(1, 1403), lenField(2, 'kept ' + key)]));
  }
  if (type === 'shared_poll_refresh') return sharedPoll(body);
  if (type !== 'rpc') return Buffer.alloc(0);
  const method = req[11] ? req[11].toString() : '';
  switch (method) {
    case 'echo': return lenField(1, lenField(1, req[12] || Buffer.alloc(0)));
    case 'ctx': return lenField(1, lenField(1, JSON.stringify(context)));
    case 'error': throw new Error('database is down'); // sent as an ERROR frame
    case 'hang': return noAnswer();
    case 'crash': process.exit(3);
    case 'garbage': relay.write('Warning: something printed to stdout\n'); return noAnswer();
    case 'badproto': return Buffer.from([0xff, 0xff, 0xff]);
    default: return Buffer.alloc(0);
  }
});
