// The few pieces of Protobuf wire format the raw-frame tests need (varints,
// length-delimited fields, client protocol v2's length-prefixed frames),
// written from the encoding spec, so tests see bytes as any client sends them.

export function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v > 127n) { out.push(Number((v & 0x7fn) | 0x80n)); v >>= 7n; }
  out.push(Number(v));
  return Buffer.from(out);
}
export const fVarint = (num, v) => Buffer.concat([varint((num << 3) | 0), varint(v)]);
export const fBytes = (num, b) => Buffer.concat([varint((num << 3) | 2), varint(b.length), Buffer.from(b)]);
export const frame = (...msgs) => Buffer.concat(msgs.flatMap((m) => [varint(m.length), m]));

export function readVarint(buf, pos) {
  let v = 0n; let shift = 0n;
  for (;;) {
    const b = buf[pos++];
    if (b === undefined) throw new Error('truncated varint');
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [Number(v), pos];
    shift += 7n;
  }
}

/** Decodes one proto message into {fieldNumber: [values]} (bytes for wire type 2). */
export function decodeFields(buf) {
  const out = {};
  let pos = 0;
  while (pos < buf.length) {
    let key; [key, pos] = readVarint(buf, pos);
    const num = key >> 3; const wt = key & 7;
    let val;
    if (wt === 0) [val, pos] = readVarint(buf, pos);
    else if (wt === 2) { let len; [len, pos] = readVarint(buf, pos); val = buf.subarray(pos, pos + len); pos += len; }
    else throw new Error(`unexpected wire type ${wt}`);
    (out[num] ||= []).push(val);
  }
  return out;
}

/** Splits a binary frame into its length-prefixed messages. */
export function splitFrame(buf) {
  const msgs = [];
  let pos = 0;
  while (pos < buf.length) {
    let len; [len, pos] = readVarint(buf, pos);
    msgs.push(buf.subarray(pos, pos + len));
    pos += len;
  }
  return msgs;
}
