// The bad-input catalogue: every entry is one thing a careless or hostile
// party sends, and the exact answer a user sees. run(ctx) performs the input
// against the shared topology and returns the observed answer as a string;
// the suite asserts it equals `expect`, so the table printed into
// docs/reliability.md (table.mjs) is exactly what the suite checks.
// Answers are written as:  close CODE "reason" | error CODE "message" |
// HTTP STATUS body | connected … | exit N: message.

import crypto from 'node:crypto';
import fs from 'node:fs';

import { API_KEY, GRPC_API_KEY, GOOD_ORIGIN, SECRET, POLL_SECRET, USER_LIMIT, startWorkerApp } from './topology.mjs';
import {
  RawWS, pbFrame, pbConnect, pbBytes, pbVarint, tokenFor, b64url, grpcPublish, checkconfig, uid,
} from './wire.mjs';
import { freePort, sleep, signJWT, nowSec, runSpindle, writeTempFile } from '../helpers.mjs';

// --- answer formatting -------------------------------------------------------

/** POSTs body to path on the server (optionally with a content type) and returns {status, text}. */
async function post(ctx, path, body, contentType = 'application/json') {
  const r = await fetch(`${ctx.server.httpUrl}${path}`, { method: 'POST', body, headers: { 'Content-Type': contentType }, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text() };
}

/** Reads a stream response to its end (at most 5 s) and names the disconnect push it ended with. */
async function streamEnd(ctx, path, body, { uni = false } = {}) {
  const r = await fetch(`${ctx.server.httpUrl}${path}`, { method: 'POST', body, signal: AbortSignal.timeout(5000) });
  const text = await r.text().catch(() => '');
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => JSON.parse(l));
  const last = lines.at(-1) || {};
  const d = uni ? last.disconnect : last.push?.disconnect;
  return d ? `HTTP ${r.status}, then disconnect push ${d.code} "${d.reason}"` : `HTTP ${r.status} ${text.slice(0, 80)}`;
}


const closeAnswer = (c) => (c.code === 'open' ? 'stays open' : `close ${c.code} "${c.reason}"`);
const errAnswer = (r) => (r.error
  ? `error ${r.error.code} "${r.error.message}"${r.error.temporary ? ' temporary' : ''}`
  : `ok ${JSON.stringify(Object.keys(r).filter((k) => k !== 'id'))}`);
const httpAnswer = (r, { body = true } = {}) => `HTTP ${r.status}${body ? ` ${r.text.trim()}` : ''}`;

/** Opens a JSON connection and connects as user (token) unless token is null. */
async function jsonConn(ctx, user = uid('u'), { claims = {}, token } = {}) {
  const ws = await RawWS.open(ctx.server.wsUrl);
  const t = token ?? tokenFor(SECRET, user, claims);
  ws.send({ id: 1, connect: { token: t } });
  const r = await ws.reply(1);
  if (r.error) throw new Error(`connect failed: ${JSON.stringify(r)}`);
  return ws;
}

/** Sends one command on a connected JSON connection and returns its answer (reply or close). */
async function jsonCall(ctx, cmd, { user } = {}) {
  const ws = await jsonConn(ctx, user);
  try {
    ws.send({ id: 2, ...cmd });
    const r = await Promise.race([ws.reply(2).catch(() => null), ws.closed(3000)]);
    if (r && r.id === 2) return errAnswer(r);
    return closeAnswer(await ws.closed(100));
  } finally { ws.close(); }
}

/** Sends raw text (or a Buffer) on a fresh connection; returns how it ends. */
async function rawFrame(ctx, payload, { binary = false, protocols, connectFirst = false } = {}) {
  const ws = connectFirst ? await jsonConn(ctx) : await RawWS.open(ctx.server.wsUrl, { protocols });
  try {
    ws.send(payload, { binary });
    const c = await ws.closed(3000);
    if (c.code === 'open') return `stays open, ${ws.messages.length} replies`;
    return closeAnswer(c);
  } finally { ws.close(); }
}

/** The answer a token gets at connect: the reply error, the close, or "connected". */
async function connectWith(ctx, token) {
  const ws = await RawWS.open(ctx.server.wsUrl);
  try {
    ws.send({ id: 1, connect: { token } });
    const r = await Promise.race([ws.reply(1).catch(() => null), ws.closed(3000)]);
    if (r && r.id === 1) return r.error ? errAnswer(r) : `connected as ${r.connect.client ? 'client' : '?'}${r.connect.ttl ? ` ttl ${r.connect.ttl > 2 ** 32 ? '>2^32' : r.connect.ttl > 86400 * 365 * 50 ? '>50y' : r.connect.ttl}` : ''}`;
    return closeAnswer(await ws.closed(100));
  } finally { ws.close(); }
}

/** A connect through the connect proxy: the scripted app answers with `answer`. */
async function connectViaProxy(ctx, answer) {
  ctx.scripted.setHandler((event, req) => (event === 'connect' ? answer(req) : ctx.healthy(event, req)));
  try {
    const ws = await RawWS.open(ctx.server.wsUrl);
    try {
      ws.send({ id: 1, connect: { data: { user: 'p' } } });
      const r = await Promise.race([ws.reply(1).catch(() => null), ws.closed(4000)]);
      if (r && r.id === 1) return r.error ? errAnswer(r) : 'connected';
      return closeAnswer(await ws.closed(100));
    } finally { ws.close(); }
  } finally { ctx.scripted.setHandler(ctx.healthy); }
}

/** An RPC from a connected JSON client; returns the answer, then checks the connection still works. */
async function rpcAnswer(ctx, method, data = {}) {
  const ws = await jsonConn(ctx);
  try {
    ws.send({ id: 2, rpc: { method, data } });
    const r = await Promise.race([ws.reply(2, 6000).catch(() => null), ws.closed(6000)]);
    if (!r || r.id !== 2) return closeAnswer(await ws.closed(100));
    let answer = r.error ? errAnswer(r) : `result ${JSON.stringify(r.rpc?.data ?? null)}`;
    // The same connection must still be served: a presence-free no-op command.
    ws.send({ id: 3, rpc: { method: 'grpc:ping', data: {} } });
    const again = await Promise.race([ws.reply(3, 4000).catch(() => null), ws.closed(4000)]);
    if (!again || again.id !== 3) answer += ', then the connection is gone';
    return answer;
  } finally { ws.close(); }
}

/** An RPC answered by the scripted app (gRPC or HTTP proxy) with `answer`. */
async function rpcVia(ctx, ns, answer) {
  ctx.scripted.setHandler((event, req) => (event === 'rpc' && req.method === `${ns}:bad` ? answer(req) : ctx.healthy(event, req)));
  try { return await rpcAnswer(ctx, `${ns}:bad`); } finally { ctx.scripted.setHandler(ctx.healthy); }
}

/** Publishes from a JSON client into namespace pp, whose publish proxy answers `answer`. */
async function publishVia(ctx, answer) {
  ctx.scripted.setHandler((event, req) => (event === 'publish' ? answer(req) : ctx.healthy(event, req)));
  try { return await jsonCall(ctx, { publish: { channel: `pp:${uid()}`, data: { x: 1 } } }); } finally { ctx.scripted.setHandler(ctx.healthy); }
}

const api = (ctx, method, body, opts) => ctx.server.api(method, body, opts);
const hmacToken = (header, claims, key = SECRET) => signJWT(claims, { key, header });

// A JSON config for checkconfig, on loopback.
const cfg = (o) => JSON.stringify({ address: '127.0.0.1', port: 18000, ...o });

/** A shared-poll track signature (Centrifugo's recipe); ttl in seconds. */
function pollSignature(user, channel, keys, ttl = 3600) {
  const iat = String(nowSec(Math.min(0, ttl - 60)));
  const exp = String(nowSec(ttl));
  const keysHash = crypto.createHash('sha256').update(keys.join('\0')).digest('hex');
  const mac = crypto.createHmac('sha256', POLL_SECRET).update([iat, exp, user, channel, keysHash].join('\0')).digest('hex');
  return `${iat}:${exp}:${mac}`;
}

/** Subscribes a fresh JSON connection of user to a shared-poll channel, then answers a track (sub_refresh) command. */
async function trackAnswer(ctx, refresh, user = uid('u')) {
  const ws = await jsonConn(ctx, user);
  try {
    ws.send({ id: 2, subscribe: { channel: refresh.channel, type: 4 } });
    const s = await ws.reply(2);
    if (s.error) return `subscribe failed: ${errAnswer(s)}`;
    ws.send({ id: 3, sub_refresh: typeof refresh === 'function' ? refresh(user) : refresh });
    const r = await Promise.race([ws.reply(3).catch(() => null), ws.closed(3000)]);
    if (r && r.id === 3) return errAnswer(r);
    return closeAnswer(await ws.closed(100));
  } finally { ws.close(); }
}

// --- the catalogue -----------------------------------------------------------

export const CASES = [
  // ---- client protocol (raw WebSocket) ----
  { area: 'protocol', input: 'text frame `{` (not JSON)', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, '{') },
  { area: 'protocol', input: '`{"id":1,"connect":"x"}` (connect is a string)', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, '{"id":1,"connect":"x"}') },
  { area: 'protocol', input: 'a command before connect', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, JSON.stringify({ id: 1, subscribe: { channel: 'x' } })) },
  { area: 'protocol', input: 'a second connect on the same connection', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, JSON.stringify({ id: 2, connect: { token: tokenFor(SECRET, 'u2') } }), { connectFirst: true }) },
  { area: 'protocol', input: 'a 70,000-byte message (limit 65,536)', expect: 'close 1009 "message size limit exceeded"',
    run: (ctx) => rawFrame(ctx, JSON.stringify({ id: 2, rpc: { method: 'x', data: 'a'.repeat(70000) } }), { connectFirst: true }) },
  { area: 'protocol', input: 'a command with no method (`{"id":2}`)', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, '{"id":2}', { connectFirst: true }) },
  { area: 'protocol', input: 'a negative command id', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, '{"id":-2,"rpc":{"method":"x"}}', { connectFirst: true }) },
  { area: 'protocol', input: 'publish data with invalid UTF-8 (JSON connection)', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, Buffer.concat([Buffer.from(`{"id":2,"publish":{"channel":"pub:${uid()}","data":{"x":"`), Buffer.from([0xff]), Buffer.from('"}}}')]), { connectFirst: true }) },
  { area: 'protocol', input: 'JSON nested 20,000 levels deep in RPC data', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, `{"id":2,"rpc":{"method":"x","data":${'['.repeat(20000)}${']'.repeat(20000)}}}`, { connectFirst: true }) },
  { area: 'protocol', input: 'a binary frame on a JSON connection', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, Buffer.from([0x01, 0x02, 0x03]), { binary: true, connectFirst: true }) },
  { area: 'protocol', input: 'Protobuf: truncated varint length prefix', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, Buffer.from([0xff, 0xff]), { binary: true, protocols: ['centrifuge-protobuf'] }) },
  { area: 'protocol', input: 'Protobuf: length prefix longer than the frame', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, Buffer.from([0x20, 0x08, 0x01]), { binary: true, protocols: ['centrifuge-protobuf'] }) },
  { area: 'protocol', input: 'Protobuf: a message of garbage bytes', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, pbFrame(Buffer.from([0x0f, 0xff, 0xff, 0xff])), { binary: true, protocols: ['centrifuge-protobuf'] }) },
  { area: 'protocol', input: 'Protobuf: connect token field holding invalid UTF-8', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, pbFrame(Buffer.concat([pbVarint(1, 1), pbBytes(4, pbBytes(1, Buffer.from([0xc3, 0x28])))])), { binary: true, protocols: ['centrifuge-protobuf'] }) },
  { area: 'protocol', input: 'Protobuf: a valid connect, then a text frame', expect: 'close 3501 "bad request"',
    run: async (ctx) => {
      const ws = await RawWS.open(ctx.server.wsUrl, { protocols: ['centrifuge-protobuf'] });
      try {
        ws.send(pbFrame(pbConnect(1, tokenFor(SECRET, uid('u')))), { binary: true });
        await ws.reply(1);
        ws.send('{"id":2,"rpc":{}}');
        return closeAnswer(await ws.closed());
      } finally { ws.close(); }
    } },
  { area: 'protocol', input: 'subscribe with an empty channel', expect: 'close 3501 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: '' } }) },
  { area: 'protocol', input: 'subscribe to an unknown namespace `nope:x`', expect: 'error 102 "unknown channel"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: 'nope:x' } }) },
  { area: 'protocol', input: 'subscribe to a 300-byte channel name (limit 255)', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: 'c'.repeat(300) } }) },
  { area: 'protocol', input: 'subscribe to a namespace closed to clients', expect: 'error 103 "permission denied"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: 'nosub:x' } }) },
  { area: 'protocol', input: 'publish where clients may not publish', expect: 'error 103 "permission denied"',
    run: (ctx) => jsonCall(ctx, { publish: { channel: `canary:${uid()}`, data: { x: 1 } } }) },
  { area: 'protocol', input: 'history of a channel that keeps none', expect: 'error 108 "not available"',
    run: (ctx) => jsonCall(ctx, { history: { channel: `nosub:${uid()}`, limit: 10 } }) },
  { area: 'protocol', input: 'presence where presence is off', expect: 'error 108 "not available"',
    run: (ctx) => jsonCall(ctx, { presence: { channel: `pub:${uid()}` } }) },
  { area: 'protocol', input: 'RPC in an unknown rpc namespace', expect: 'error 104 "method not found"',
    run: (ctx) => jsonCall(ctx, { rpc: { method: 'nowhere:x' } }) },
  { area: 'protocol', input: 'subscribe twice to one channel', expect: 'error 105 "already subscribed"',
    run: async (ctx) => {
      const ws = await jsonConn(ctx);
      try {
        const ch = `pub:${uid()}`;
        ws.send({ id: 2, subscribe: { channel: ch } });
        await ws.reply(2);
        ws.send({ id: 3, subscribe: { channel: ch } });
        return errAnswer(await ws.reply(3));
      } finally { ws.close(); }
    } },
  { area: 'protocol', input: 'no connect command within client_stale_close_delay (2 s)', expect: 'close 3502 "stale"',
    run: async (ctx) => {
      const ws = await RawWS.open(ctx.server.wsUrl);
      try { return closeAnswer(await ws.closed(4000)); } finally { ws.close(); }
    } },
  { area: 'protocol', input: '`"token": null` in connect (null is absent: the connect proxy decides)', expect: 'connected',
    run: async (ctx) => {
      const ws = await RawWS.open(ctx.server.wsUrl);
      try {
        ws.send('{"id":1,"connect":{"token":null,"data":{"user":"n"}}}');
        const r = await ws.reply(1);
        return r.connect ? 'connected' : errAnswer(r);
      } finally { ws.close(); }
    } },
  { area: 'protocol', input: '`"token": 5` (a number where a string belongs)', expect: 'close 3501 "bad request"',
    run: (ctx) => rawFrame(ctx, '{"id":1,"connect":{"token":5}}') },

  // ---- auth ----
  { area: 'auth', input: 'token signed with another secret', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, tokenFor('another-secret-0123456789abcdef0123', 'u')) },
  { area: 'auth', input: 'token with `alg: none`', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'u', exp: nowSec(3600) })}.`) },
  { area: 'auth', input: 'RS256 token while only HMAC is configured (alg confusion)', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, hmacToken({ alg: 'RS256' }, { sub: 'u', exp: nowSec(3600) })) },
  { area: 'auth', input: 'expired token', expect: 'error 109 "token expired"',
    run: (ctx) => connectWith(ctx, tokenFor(SECRET, 'u', { exp: nowSec(-60) })) },
  { area: 'auth', input: '`abc` (not a JWT)', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, 'abc') },
  { area: 'auth', input: 'token whose `exp` is beyond 2^32 s', expect: 'connected as client ttl >50y',
    run: (ctx) => connectWith(ctx, tokenFor(SECRET, 'u', { exp: 2 ** 33 })) },
  { area: 'auth', input: 'token with `nbf` an hour ahead (not valid yet, as Centrifugo: expired)', expect: 'error 109 "token expired"',
    run: (ctx) => connectWith(ctx, tokenFor(SECRET, 'u', { nbf: nowSec(3600) })) },
  { area: 'auth', input: 'token whose `sub` is a number', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, hmacToken({}, { sub: 42, exp: nowSec(3600) })) },
  { area: 'auth', input: 'token whose `exp` is a numeric string (honoured)', expect: 'connected as client ttl 3600',
    run: (ctx) => connectWith(ctx, hmacToken({}, { sub: 'u', exp: String(nowSec(3600)) })) },
  { area: 'auth', input: 'token with `channels: [null]`', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, tokenFor(SECRET, 'u', { channels: [null] })) },
  { area: 'auth', input: 'token with a truncated signature', expect: 'close 3500 "invalid token"',
    run: (ctx) => connectWith(ctx, tokenFor(SECRET, 'u').slice(0, -5)) },
  { area: 'auth', input: 'subscription token for another channel', expect: 'close 3500 "invalid token"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: 'nosub:a', token: tokenFor(SECRET, 'subu', { channel: 'nosub:b' }) } }, { user: 'subu' }) },
  { area: 'auth', input: 'subscription token of another user', expect: 'close 3500 "invalid token"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: 'nosub:a', token: tokenFor(SECRET, 'someone-else', { channel: 'nosub:a' }) } }, { user: 'subv' }) },
  { area: 'auth', input: `connection ${USER_LIMIT + 1} of one user (client_user_connection_limit ${USER_LIMIT})`, expect: 'close 3504 "connection limit"',
    run: async (ctx) => {
      const user = uid('lim');
      const held = [];
      try {
        for (let i = 0; i < USER_LIMIT; i++) held.push(await jsonConn(ctx, user));
        return await connectWith(ctx, tokenFor(SECRET, user));
      } finally { for (const w of held) w.close(); }
    } },
  { area: 'auth', input: 'refresh with a token of another user', expect: 'close 3500 "invalid token"',
    run: (ctx) => jsonCall(ctx, { refresh: { token: tokenFor(SECRET, 'mallory') } }) },

  // ---- HTTP server API ----
  { area: 'server API', input: 'POST /api/publish without a key', expect: 'HTTP 401 {"error":{"code":101,"message":"unauthorized"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: 'x', data: {} }, { key: null })) },
  { area: 'server API', input: 'a wrong API key', expect: 'HTTP 401 {"error":{"code":101,"message":"unauthorized"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: 'x', data: {} }, { key: 'wrong' })) },
  { area: 'server API', input: 'the key in `Authorization: apikey …` (Centrifugo\'s header)', expect: 'HTTP 200 {"result":{}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: `pub:${uid()}`, data: {} }, { key: null, headers: { Authorization: `apikey ${API_KEY}` } })).replace(/"offset":\d+,"epoch":"[^"]*"/, '') },
  { area: 'server API', input: 'a body that is not JSON', expect: 'HTTP 400 invalid JSON request body: decode PublishRequest: pbjson: field "channel": want string, got end of input',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { raw: '{"channel":' })) },
  { area: 'server API', input: 'publish data with invalid UTF-8 (`\\xff`)', expect: 'HTTP 400 invalid JSON request body: decode PublishRequest: pbjson: field "data": invalid UTF-8 in a JSON payload (JSON clients could not receive it; send binary data base64-encoded in the b64 field beside it, e.g. b64data)',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { raw: Buffer.concat([Buffer.from('{"channel":"pub:u","data":{"x":"'), Buffer.from([0xff]), Buffer.from('"}}')]) })) },
  { area: 'server API', input: 'channel name with invalid UTF-8', expect: 'HTTP 400 invalid JSON request body: decode PublishRequest: pbjson: field "channel": invalid UTF-8 in a string',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { raw: Buffer.concat([Buffer.from('{"channel":"pub:'), Buffer.from([0xc3, 0x28]), Buffer.from('","data":{}}')]) })) },
  { area: 'server API', input: 'broadcast `{"channels":[null]}`', expect: 'HTTP 400 invalid JSON request body: decode BroadcastRequest: pbjson: field "channels[0]": null is not allowed in an array',
    run: async (ctx) => httpAnswer(await api(ctx, 'broadcast', { channels: [null], data: {} })) },
  { area: 'server API', input: 'publish without a channel', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { data: {} })) },
  { area: 'server API', input: 'publish without data', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: `pub:${uid()}` })) },
  { area: 'server API', input: '`"channel": 123`', expect: 'HTTP 400 invalid JSON request body: decode PublishRequest: pbjson: field "channel": want string, got number',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: 123, data: {} })) },
  { area: 'server API', input: 'JSON with trailing garbage `{…}x`', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { raw: '{"channel":"pub:a","data":{}}x' }), { body: false }) },
  { area: 'server API', input: 'an unknown method `/api/nope`', expect: 'HTTP 404',
    run: async (ctx) => httpAnswer(await api(ctx, 'nope', {}), { body: false }) },
  { area: 'server API', input: 'GET /api/publish', expect: 'HTTP 405',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { httpMethod: 'GET' }), { body: false }) },
  { area: 'server API', input: 'history of a channel that keeps none', expect: 'HTTP 200 {"error":{"code":108,"message":"not available"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'history', { channel: `nosub:${uid()}` })) },
  { area: 'server API', input: 'presence where presence is off', expect: 'HTTP 200 {"error":{"code":108,"message":"not available"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'presence', { channel: `pub:${uid()}` })) },
  { area: 'server API', input: 'publish to an unknown namespace', expect: 'HTTP 200 {"error":{"code":102,"message":"unknown channel"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: 'nope:x', data: {} })) },
  { area: 'server API', input: 'b64data that is not base64', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', { channel: `pub:${uid()}`, b64data: '!!!' })) },
  { area: 'server API', input: 'batch: one good and one bad command', expect: 'HTTP 200 [ok, error 107]',
    run: async (ctx) => {
      const r = await api(ctx, 'batch', { commands: [{ publish: { channel: `pub:${uid()}`, data: {} } }, { publish: { channel: '', data: {} } }] });
      const replies = r.json?.replies || [];
      return `HTTP ${r.status} [${replies.map((x) => (x.error ? `error ${x.error.code}` : 'ok')).join(', ')}]`;
    } },
  { area: 'server API', input: 'a 12 MiB body', expect: 'HTTP 413',
    run: async (ctx) => httpAnswer(await api(ctx, 'publish', null, { raw: `{"channel":"pub:big","data":"${'a'.repeat(12 << 20)}"}` }), { body: false }) },
  { area: 'server API', input: 'gRPC API call without a key', expect: 'gRPC UNAUTHENTICATED',
    run: (ctx) => grpcPublish(ctx.apiPort, { channel: 'pub:g', data: Buffer.from('{}') }, null).then(() => 'ok', (e) => `gRPC ${grpcName(e.code)}`) },
  { area: 'server API', input: 'gRPC API call with a wrong key', expect: 'gRPC UNAUTHENTICATED',
    run: (ctx) => grpcPublish(ctx.apiPort, { channel: 'pub:g', data: Buffer.from('{}') }, 'wrong').then(() => 'ok', (e) => `gRPC ${grpcName(e.code)}`) },
  { area: 'server API', input: 'gRPC publish with data `{"x":"\\xff"}` (invalid UTF-8)', expect: 'error 107 "bad request: data is not valid JSON (binary data goes in b64data)"',
    run: async (ctx) => errAnswer(await grpcPublish(ctx.apiPort, { channel: `pub:${uid()}`, data: Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff]), Buffer.from('"}')]) }, GRPC_API_KEY)) },
  { area: 'server API', input: 'gRPC publish with data `hello` (not JSON)', expect: 'error 107 "bad request: data is not valid JSON (binary data goes in b64data)"',
    run: async (ctx) => errAnswer(await grpcPublish(ctx.apiPort, { channel: `pub:${uid()}`, data: Buffer.from('hello') }, GRPC_API_KEY)) },

  // ---- origins ----
  { area: 'origins', input: 'upgrade from the allowed origin', expect: 'upgraded',
    run: async (ctx) => { const ws = await RawWS.open(ctx.server.wsUrl, { origin: GOOD_ORIGIN }); ws.close(); return 'upgraded'; } },
  { area: 'origins', input: 'upgrade from `http://evil.example`', expect: 'HTTP 403',
    run: (ctx) => RawWS.open(ctx.server.wsUrl, { origin: 'http://evil.example' }).then((ws) => { ws.close(); return 'upgraded'; }, (e) => `HTTP ${e.status}`) },
  { area: 'origins', input: 'upgrade from `null` (a sandboxed page)', expect: 'HTTP 403',
    run: (ctx) => RawWS.open(ctx.server.wsUrl, { origin: 'null' }).then((ws) => { ws.close(); return 'upgraded'; }, (e) => `HTTP ${e.status}`) },
  { area: 'origins', input: 'upgrade from the allowed host on another port', expect: 'HTTP 403',
    run: (ctx) => RawWS.open(ctx.server.wsUrl, { origin: `${GOOD_ORIGIN}:8443` }).then((ws) => { ws.close(); return 'upgraded'; }, (e) => `HTTP ${e.status}`) },
  { area: 'origins', input: 'upgrade from a look-alike `http://app.example.test.evil.example`', expect: 'HTTP 403',
    run: (ctx) => RawWS.open(ctx.server.wsUrl, { origin: `${GOOD_ORIGIN}.evil.example` }).then((ws) => { ws.close(); return 'upgraded'; }, (e) => `HTTP ${e.status}`) },

  // ---- proxy backends (scripted app) ----
  { area: 'proxy', input: 'connect proxy answers HTTP 500', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 500, body: 'boom' } })) },
  { area: 'proxy', input: 'connect proxy answers `not json`', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 200, body: 'not json' } })) },
  { area: 'proxy', input: 'connect proxy answers `{"result":{"user":"u1","channels":[null]}}`', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 200, body: '{"result":{"user":"u1","channels":[null]}}' } })) },
  { area: 'proxy', input: 'connect proxy answers a 302 to another host', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 302, body: '', headers: { Location: 'http://127.0.0.1:1/stolen' } } })) },
  { area: 'proxy', input: 'connect proxy slower than its 1 s timeout', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, async () => { await sleep(1500); return { result: { user: 'late' } }; }) },
  { area: 'proxy', input: 'connect proxy drops the TCP connection', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __drop: true })) },
  { area: 'proxy', input: 'connect proxy answers user with invalid UTF-8', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 200, body: Buffer.concat([Buffer.from('{"result":{"user":"'), Buffer.from([0xff]), Buffer.from('"}}')]) } })) },
  { area: 'proxy', input: 'connect proxy answers info `b64info` that is not JSON', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ result: { user: 'u1', b64info: Buffer.from([0xff, 0x00]).toString('base64') } })) },
  { area: 'proxy', input: 'connect proxy answers an application error 4000', expect: 'error 4000 "go away"',
    run: (ctx) => connectViaProxy(ctx, () => ({ error: { code: 4000, message: 'go away' } })) },
  { area: 'proxy', input: 'connect proxy answers disconnect 4500', expect: 'close 4500 "banned"',
    run: (ctx) => connectViaProxy(ctx, () => ({ disconnect: { code: 4500, reason: 'banned' } })) },
  { area: 'proxy', input: 'connect proxy answers a 33 MiB body (limit 32 MiB)', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => connectViaProxy(ctx, () => ({ __http: { status: 200, body: `{"result":{"user":"big","info":"${'a'.repeat(33 << 20)}"}}` } })) },
  { area: 'proxy', input: 'gRPC RPC proxy answers bytes that are no message', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcVia(ctx, 'grpc', () => ({ __grpcGarbage: true })) },
  { area: 'proxy', input: 'gRPC RPC proxy fails with UNAVAILABLE', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcVia(ctx, 'grpc', () => ({ __grpcStatus: 14 })) },
  { area: 'proxy', input: 'gRPC RPC proxy answers data `\\xff\\x00` to a JSON client', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcVia(ctx, 'grpc', () => ({ result: { data: Buffer.from([0xff, 0x00]) } })) },
  { area: 'proxy', input: 'HTTP RPC proxy answers `b64data` that is not base64', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcVia(ctx, 'http', () => ({ result: { b64data: '!!' } })) },
  { area: 'proxy', input: 'publish proxy rewrites data to non-JSON bytes (b64data)', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => publishVia(ctx, () => ({ result: { b64data: Buffer.from([0xff, 0x7b]).toString('base64') } })) },
  { area: 'proxy', input: 'publish proxy answers `{"result":{"data":null}}`', expect: 'ok ["publish"]',
    run: (ctx) => publishVia(ctx, () => ({ __http: { status: 200, body: '{"result":{"data":null}}' } })) },

  // ---- workers (spindle app with the Node fault worker) ----
  { area: 'workers', input: 'worker exits during an RPC', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcAnswer(ctx, 'crash') },
  { area: 'workers', input: 'worker hangs past the 1.5 s proxy timeout', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcAnswer(ctx, 'hang') },
  { area: 'workers', input: 'worker prints garbage to stdout (its relay)', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcAnswer(ctx, 'garbage') },
  { area: 'workers', input: 'worker answers RPC data that is not JSON', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcAnswer(ctx, 'notjson') },
  { area: 'workers', input: 'worker answers RPC data with invalid UTF-8', expect: 'error 100 "internal server error" temporary',
    run: (ctx) => rpcAnswer(ctx, 'badutf8') },
  { area: 'workers', input: 'an RPC method the worker does not know', expect: 'error 104 "method not found"',
    run: (ctx) => rpcAnswer(ctx, 'no-such-method') },
  { area: 'workers', input: 'a worker that works after the faults above', expect: 'result {"pid":"<pid>"}',
    run: async (ctx) => (await rpcAnswer(ctx, 'pid')).replace(/\d+/, '"<pid>"').replace('""<pid>""', '"<pid>"') },
  { area: 'workers', input: '`spindle app` whose workers exit at start', expect: 'exit 1',
    run: async (ctx) => {
      const app = await startWorkerApp({ appPort: await freePort(), apiPort: ctx.apiPort, workerArgs: ['--exit-at-start'], expectReady: false });
      const deadline = setTimeout(() => app.kill(), 15000);
      const { code } = await app.exitPromise;
      clearTimeout(deadline);
      fs.rmSync(app.dir, { recursive: true, force: true });
      return `exit ${code}`;
    } },

  // ---- config (spindle checkconfig) ----
  { area: 'config', input: '`-c /dev/zero` (endless file)', expect: 'exit 1: larger than 8 MiB',
    run: async () => { const r = await checkconfig('/dev/zero', null); return `exit ${r.code}: ${/larger than 8 MiB/.test(r.out) ? 'larger than 8 MiB' : r.out.trim()}`; } },
  { area: 'config', input: 'a typo `tokn_hmac_secret_key`', expect: 'exit 1: unknown key, did you mean token_hmac_secret_key',
    run: async () => { const r = await checkconfig('c.json', cfg({ tokn_hmac_secret_key: 'x'.repeat(40) })); return `exit ${r.code}: ${/unknown key/.test(r.out) && /did you mean "?token_hmac_secret_key/.test(r.out) ? 'unknown key, did you mean token_hmac_secret_key' : r.out.trim()}`; } },
  { area: 'config', input: 'JSON with a missing comma', expect: 'exit 1: line and column named',
    run: async () => { const r = await checkconfig('c.json', '{\n  "port": 8000\n  "address": "127.0.0.1"\n}\n'); return `exit ${r.code}: ${/:3: syntax error \(column \d+\)/.test(r.out) ? 'line and column named' : r.out.trim()}`; } },
  { area: 'config', input: '`"port": "abc"`', expect: 'exit 1: port named',
    run: async () => { const r = await checkconfig('c.json', cfg({ port: 'abc' })); return `exit ${r.code}: ${/\bport\b/.test(r.out) ? 'port named' : r.out.trim()}`; } },
  { area: 'config', input: '`"token_hmac_secret_key": null`', expect: 'exit 0 with a warning: null: not set',
    run: async () => { const r = await checkconfig('c.json', cfg({ token_hmac_secret_key: null })); return `exit ${r.code}${/warning: .*token_hmac_secret_key: null: not set/.test(r.out) ? ' with a warning: null: not set' : `: ${r.out.trim()}`}`; } },
  { area: 'config', input: 'endpoint host `127.0.0.1c`', expect: 'exit 1: invalid endpoint',
    run: async () => { const r = await checkconfig('c.json', cfg({ proxy_connect_endpoint: 'grpc://127.0.0.1c:10001' })); return `exit ${r.code}: ${/invalid endpoint/.test(r.out) ? 'invalid endpoint' : r.out.trim()}`; } },
  { area: 'config', input: 'duration `10 parsecs`', expect: 'exit 1: proxy_connect_timeout named',
    run: async () => { const r = await checkconfig('c.json', cfg({ proxy_connect_endpoint: 'grpc://127.0.0.1:10001', proxy_connect_timeout: '10 parsecs' })); return `exit ${r.code}: ${/proxy_connect_timeout/.test(r.out) ? 'proxy_connect_timeout named' : r.out.trim()}`; } },
  { area: 'config', input: 'TLS on with a missing cert file', expect: 'exit 1: tls_cert named',
    run: async () => { const r = await checkconfig('c.json', cfg({ tls: true, tls_cert: '/nonexistent/cert.pem', tls_key: '/nonexistent/key.pem' })); return `exit ${r.code}: ${/tls_cert/.test(r.out) ? 'tls_cert named' : r.out.trim()}`; } },
  { area: 'config', input: 'a Redis password in `redis_address`', expect: 'password not printed',
    run: async () => {
      const r = await runSpindleServerOnce(cfg({ engine: 'redis', redis_address: 'redis://:hunter2-secret@127.0.0.1:1' }));
      return r.includes('hunter2-secret') ? `password printed: ${r.trim().slice(0, 200)}` : 'password not printed';
    } },
  { area: 'config', input: 'origin pattern `https://*.example.com/`', expect: 'exit 0 with a warning naming the fix',
    run: async () => { const r = await checkconfig('c.json', cfg({ allowed_origins: ['https://*.example.com/'] })); return `exit ${r.code}${/warn/i.test(r.out) && /https:\/\/\*\.example\.com\b(?!\/)/.test(r.out) ? ' with a warning naming the fix' : `: ${r.out.trim()}`}`; } },
  { area: 'config', input: 'origin `example.com` (no scheme)', expect: 'exit 0 with a warning naming the fix',
    run: async () => { const r = await checkconfig('c.json', cfg({ allowed_origins: ['example.com'] })); return `exit ${r.code}${/warn/i.test(r.out) && /https:\/\/example\.com/.test(r.out) ? ' with a warning naming the fix' : `: ${r.out.trim()}`}`; } },
  { area: 'config', input: 'a 5-character HMAC secret', expect: 'exit 0 with a warning',
    run: async () => { const r = await checkconfig('c.json', cfg({ token_hmac_secret_key: 'short' })); return `exit ${r.code}${/warn/i.test(r.out) && /token_hmac_secret_key/.test(r.out) ? ' with a warning' : `: ${r.out.trim()}`}`; } },
  { area: 'config', input: 'a stream proxy switched on (`proxy_subscribe_stream`)', expect: 'exit 1: not supported',
    run: async () => { const r = await checkconfig('c.json', cfg({ proxy_subscribe_stream: true, proxy_subscribe_stream_endpoint: 'grpc://127.0.0.1:1' })); return `exit ${r.code}: ${/proxy_subscribe_stream: subscribe stream proxies are not supported/.test(r.out) ? 'not supported' : r.out.trim()}`; } },
  { area: 'config', input: 'only `proxy_subscribe_stream_endpoint` set', expect: 'exit 0 with a warning: not used',
    run: async () => { const r = await checkconfig('c.json', cfg({ proxy_subscribe_stream_endpoint: 'grpc://127.0.0.1:1' })); return `exit ${r.code}${/warning: .*proxy_subscribe_stream_endpoint: .*not used/.test(r.out) ? ' with a warning: not used' : `: ${r.out.trim()}`}`; } },
  { area: 'config', input: '`client_concurrency: -1`', expect: 'exit 1: client_concurrency named',
    run: async () => { const r = await checkconfig('c.json', cfg({ client_concurrency: -1 })); return `exit ${r.code}: ${/client_concurrency/.test(r.out) ? 'client_concurrency named' : r.out.trim()}`; } },
  { area: 'config', input: '.rr.yaml typo `centrifuge.proxy_adress`', expect: 'exit 1: did you mean proxy_address',
    run: async () => { const r = await checkconfig('.rr.yaml', 'version: "3"\nserver:\n  command: "php w.php"\ncentrifuge:\n  proxy_adress: tcp://127.0.0.1:30000\n  grpc_api_address: 127.0.0.1:10000\n  grpc_api_key: g\n', { app: true }); return `exit ${r.code}: ${/did you mean "?(centrifuge\.)?proxy_address/.test(r.out) ? 'did you mean proxy_address' : r.out.trim()}`; } },
  { area: 'config', input: '.rr.yaml `centrifuge.sub_refresh_type: subrefreshh`', expect: 'exit 1: the two spellings named',
    run: async () => { const r = await checkconfig('.rr.yaml', 'version: "3"\nserver:\n  command: "php w.php"\ncentrifuge:\n  proxy_address: tcp://127.0.0.1:30000\n  grpc_api_address: 127.0.0.1:10000\n  grpc_api_key: g\n  sub_refresh_type: subrefreshh\n', { app: true }); return `exit ${r.code}: ${/"subrefresh".*"sub_refresh"/.test(r.out) ? 'the two spellings named' : r.out.trim()}`; } },
  { area: 'config', input: '.rr.yaml `centrifuge.pool.stream_timeout`', expect: 'exit 0 with a warning: not supported',
    run: async () => { const r = await checkconfig('.rr.yaml', 'version: "3"\nserver:\n  command: "php worker.php"\ncentrifuge:\n  proxy_address: tcp://127.0.0.1:30000\n  grpc_api_address: 127.0.0.1:10000\n  grpc_api_key: g\n  pool:\n    stream_timeout: 10s\n', { app: true }); return `exit ${r.code}${/stream_timeout/.test(r.out) && /not supported/.test(r.out) ? ' with a warning: not supported' : `: ${r.out.trim()}`}`; } },
  // ---- HTTP-streaming, SSE, emulation, unidirectional transports, delta ----
  { area: 'transports', input: 'HTTP-stream connect body `{` (not JSON)', expect: 'HTTP 200, then disconnect push 3501 "bad request"',
    run: (ctx) => streamEnd(ctx, '/connection/http_stream', '{') },
  { area: 'transports', input: 'SSE GET without `cf_connect`', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await fetch(`${ctx.server.httpUrl}/connection/sse`).then(async (r) => ({ status: r.status, text: await r.text() })), { body: false }) },
  { area: 'transports', input: 'emulation body `{` (not JSON)', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await post(ctx, '/emulation', '{'), { body: false }) },
  { area: 'transports', input: 'emulation `data` that is an object, not a string', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await post(ctx, '/emulation', '{"node":"n","session":"s","data":{}}'), { body: false }) },
  { area: 'transports', input: 'emulation Protobuf body of garbage bytes', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await post(ctx, '/emulation', Buffer.from([0x0a, 0x7f, 0x01]), 'application/octet-stream'), { body: false }) },
  { area: 'transports', input: 'emulation request for a node nobody knows', expect: 'HTTP 404',
    run: async (ctx) => httpAnswer(await post(ctx, '/emulation', '{"node":"nope","session":"s","data":"{}"}'), { body: false }) },
  { area: 'transports', input: 'a 70,000-byte emulation body (limit 65,536)', expect: 'HTTP 413',
    run: async (ctx) => httpAnswer(await post(ctx, '/emulation', 'x'.repeat(70000)), { body: false }) },
  { area: 'transports', input: 'uni_http_stream connect request `[1]` (not an object)', expect: 'HTTP 400',
    run: async (ctx) => httpAnswer(await post(ctx, '/connection/uni_http_stream', '[1]'), { body: false }) },
  { area: 'transports', input: 'uni_http_stream with an expired token', expect: 'HTTP 200, then disconnect push 3005 "connection expired"',
    run: (ctx) => streamEnd(ctx, '/connection/uni_http_stream', JSON.stringify({ token: signJWT({ sub: 'u', exp: nowSec(-60) }, { key: SECRET }) }), { uni: true }) },
  { area: 'transports', input: 'uni_websocket first message `not json`', expect: 'close 3501 "bad request"',
    run: async (ctx) => {
      const ws = await RawWS.open(ctx.server.wsUrl.replace('/connection/websocket', '/connection/uni_websocket'));
      try { ws.send('not json'); return closeAnswer(await ws.closed(3000)); } finally { ws.close(); }
    } },
  { area: 'transports', input: 'subscribe with `delta: "xdelta"` (only fossil exists)', expect: 'close 3501 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `delta:${uid()}`, delta: 'xdelta' } }) },
  { area: 'transports', input: 'subscribe with `delta: "fossil"` where the namespace has no fossil', expect: 'ok ["subscribe"], delta false',
    run: async (ctx) => {
      const ws = await jsonConn(ctx);
      try {
        ws.send({ id: 2, subscribe: { channel: `pub:${uid()}`, delta: 'fossil' } });
        const r = await ws.reply(2);
        return `${errAnswer(r)}, delta ${Boolean(r.subscribe?.delta)}`;
      } finally { ws.close(); }
    } },
  // ---- map subscriptions ----
  { area: 'maps', input: 'map subscribe with `phase: 7`', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `map:${uid()}`, type: 1, phase: 7 } }) },
  { area: 'maps', input: 'map subscribe (`type: 1`) to a stream namespace', expect: 'error 103 "permission denied"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `pub:${uid()}`, type: 1, phase: 2 } }) },
  { area: 'maps', input: 'stream subscribe (no `type`) to a map namespace', expect: 'error 103 "permission denied"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `map:${uid()}` } }) },
  { area: 'maps', input: 'map state page with a cursor but no first page', expect: 'error 103 "permission denied"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `map:${uid()}`, type: 1, phase: 2, cursor: 'k', epoch: 'e', offset: 1 } }) },
  { area: 'maps', input: 'map subscribe with tags filter `cmp: "like"`', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `map:${uid()}`, type: 1, phase: 2, tf: { key: 'a', cmp: 'like', val: 'b' } } }) },
  { area: 'maps', input: 'map write with a 2,000-byte key', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { publish: { channel: `map:${uid()}`, type: 1, key: 'k'.repeat(2000), data: { v: 1 } } }) },
  { area: 'maps', input: 'map removal that carries data', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { publish: { channel: `map:${uid()}`, type: 1, key: 'k', removed: true, data: { v: 1 } } }) },
  { area: 'maps', input: 'map write (`type: 1`) to a stream channel', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { publish: { channel: `pub:${uid()}`, type: 1, key: 'k', data: { v: 1 } } }) },
  { area: 'maps', input: 'API `map_publish` with `key_mode: "sometimes"`', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request: key_mode must be \\"\\", \\"if_new\\" or \\"if_exists\\""}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'map_publish', { channel: `map:${uid()}`, key: 'k', data: {}, key_mode: 'sometimes' })) },
  { area: 'maps', input: 'API `map_read_stream` since another epoch', expect: 'HTTP 200 {"error":{"code":112,"message":"unrecoverable position"}}',
    run: async (ctx) => {
      const ch = `map:${uid()}`;
      await api(ctx, 'map_publish', { channel: ch, key: 'k', data: {} });
      return httpAnswer(await api(ctx, 'map_read_stream', { channel: ch, since_offset: 1, since_epoch: 'not-this-one' }));
    } },
  { area: 'maps', input: 'API `map_publish` to a stream namespace', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'map_publish', { channel: `pub:${uid()}`, key: 'k', data: {} })) },
  { area: 'maps', input: 'config: a map namespace without `map.mode`', expect: 'exit 1: map.mode named',
    run: async () => { const r = await checkconfig('c.json', cfg({ namespaces: [{ name: 'mm', subscription_type: 'map' }] })); return `exit ${r.code}: ${/map\.mode/.test(r.out) ? 'map.mode named' : r.out.trim()}`; } },
  { area: 'maps', input: 'config: `client_publish_debounce_interval` (Centrifugo PRO)', expect: 'exit 0 with a warning: PRO, ignored',
    run: async () => { const r = await checkconfig('c.json', cfg({ namespaces: [{ name: 'mm', subscription_type: 'map', map: { mode: 'ephemeral', key_ttl: '60s' }, client_publish_debounce_interval: '50ms' }] })); return `exit ${r.code}${/client_publish_debounce_interval/.test(r.out) && /PRO/.test(r.out) && /ignores/.test(r.out) ? ' with a warning: PRO, ignored' : `: ${r.out.trim()}`}`; } },
  // ---- shared poll ----
  { area: 'shared poll', input: 'track with a signature made for another user', expect: 'error 103 "permission denied"',
    run: (ctx) => { const ch = `poll:${uid()}`; return trackAnswer(ctx, { channel: ch, type: 1, track: [{ signature: pollSignature('mallory', ch, ['k']), items: [{ key: 'k' }] }] }); } },
  { area: 'shared poll', input: 'track with a signature that expired a minute ago', expect: 'error 109 "token expired"',
    run: (ctx) => { const ch = `poll:${uid()}`; const user = uid('u'); return trackAnswer(ctx, { channel: ch, type: 1, track: [{ signature: pollSignature(user, ch, ['k'], -60), items: [{ key: 'k' }] }] }, user); } },
  { area: 'shared poll', input: 'track of 4 keys where a connection may track 3', expect: 'error 106 "limit exceeded"',
    run: (ctx) => { const ch = `poll:${uid()}`; const user = uid('u'); const keys = ['a', 'b', 'c', 'd']; return trackAnswer(ctx, { channel: ch, type: 1, track: [{ signature: pollSignature(user, ch, keys), items: keys.map((key) => ({ key })) }] }, user); } },
  { area: 'shared poll', input: 'track with no batches', expect: 'error 107 "bad request"',
    run: (ctx) => trackAnswer(ctx, { channel: `poll:${uid()}`, type: 1 }) },
  { area: 'shared poll', input: 'sub_refresh `type: 9` on a shared-poll channel', expect: 'error 107 "bad request"',
    run: (ctx) => trackAnswer(ctx, { channel: `poll:${uid()}`, type: 9 }) },
  { area: 'shared poll', input: 'stream subscribe (no `type`) to a shared-poll namespace', expect: 'error 107 "bad request"',
    run: (ctx) => jsonCall(ctx, { subscribe: { channel: `poll:${uid()}` } }) },
  { area: 'shared poll', input: 'API `shared_poll_publish` with version 0', expect: 'HTTP 200 {"error":{"code":107,"message":"bad request: version must be greater than 0"}}',
    run: async (ctx) => httpAnswer(await api(ctx, 'shared_poll_publish', { channel: `poll:${uid()}`, key: 'k', data: {} })) },
  { area: 'shared poll', input: 'config: a shared_poll namespace without `shared_poll.hmac_secret_key`', expect: 'exit 1: shared_poll.hmac_secret_key named',
    run: async () => { const r = await checkconfig('c.json', cfg({ proxies: [{ name: 'p', endpoint: 'http://127.0.0.1:1/x' }], namespaces: [{ name: 'pp', subscription_type: 'shared_poll', shared_poll: { proxy_name: 'p' } }] })); return `exit ${r.code}: ${/shared_poll\.hmac_secret_key/.test(r.out) ? 'shared_poll.hmac_secret_key named' : r.out.trim()}`; } },
];

const GRPC_NAMES = { 3: 'INVALID_ARGUMENT', 8: 'RESOURCE_EXHAUSTED', 14: 'UNAVAILABLE', 16: 'UNAUTHENTICATED' };
const grpcName = (code) => GRPC_NAMES[code] || `code ${code}`;

/** Starts `spindle server` with a config that cannot start; returns its output. */
async function runSpindleServerOnce(text) {
  const file = writeTempFile('c.json', text);
  const r = await runSpindle(['server', '-c', file], { timeout: 8000 });
  return r.stdout + r.stderr;
}
