// Wire-level checks the SDK hides (spec §1.1–§1.3, §1.7): format selection,
// subprotocol echo, frame types, batching, empty result objects, and the
// protocol-error close codes.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { T, startServer, rawConnect, until, sleep, uid, signJWT, nowSec } from './helpers.mjs';
import { fVarint, fBytes, frame, decodeFields, splitFrame } from './pbwire.mjs';

const SECRET = 'e2e-secret-' + uid();
const token = () => signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET });

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    allow_subscribe_for_client: true,
    client_stale_close_delay: '1s',
    client_expired_close_delay: '1s',
  });
});
after(() => server?.stop());


const connectCmd = (id, tok) => Buffer.concat([fVarint(1, id), fBytes(4, fBytes(1, Buffer.from(tok)))]);

async function expectClose(closed, ms = 3000) {
  return Promise.race([closed, sleep(ms).then(() => ({ code: 'not closed' }))]);
}

describe('format selection', () => {
  test('subprotocol centrifuge-protobuf is echoed and replies are binary protobuf', T, async () => {
    const { ws, frames, closed } = await rawConnect(server.wsUrl, { protocols: ['centrifuge-protobuf'] });
    assert.equal(ws.protocol, 'centrifuge-protobuf', 'server must echo the protobuf subprotocol');
    ws.send(frame(connectCmd(1, token())));
    await until(() => frames.length > 0, { what: 'protobuf connect reply' });
    assert.equal(frames[0].isBinary, true, 'protobuf replies use binary frames');
    const replies = splitFrame(frames[0].data).map(decodeFields);
    const reply = replies.find((r) => r[1]?.[0] === 1);
    assert.ok(reply, `reply with id 1 in ${JSON.stringify(replies)}`);
    assert.equal(reply[2], undefined, 'no error field');
    assert.ok(reply[5], 'connect result (field 5) present');
    const result = decodeFields(reply[5][0]);
    assert.match(Buffer.from(result[1][0]).toString(), /^[0-9a-f-]{36}$/, 'client id');
    ws.close();
    await closed;
  });

  test('?format=protobuf without subprotocol also selects protobuf', T, async () => {
    const { ws, frames, closed } = await rawConnect(`${server.wsUrl}?format=protobuf`);
    ws.send(frame(connectCmd(7, token())));
    await until(() => frames.length > 0, { what: 'reply' });
    assert.equal(frames[0].isBinary, true);
    const reply = splitFrame(frames[0].data).map(decodeFields).find((r) => r[1]?.[0] === 7);
    assert.ok(reply?.[5], 'connect result');
    ws.close();
    await closed;
  });

  test('JSON: text frames, batched commands answered by id, empty results are {}', T, async () => {
    const { ws, frames, messages, closed } = await rawConnect(server.wsUrl);
    const ch = uid('c');
    ws.send([
      JSON.stringify({ id: 1, connect: { token: token(), name: 'raw' } }),
      JSON.stringify({ id: 2, subscribe: { channel: ch, flag: 1 } }),
    ].join('\n'));
    await until(() => messages.some((m) => m.id === 2), { what: 'subscribe reply' });
    assert.ok(frames.every((f) => !f.isBinary), 'JSON replies use text frames');
    const sub = messages.find((m) => m.id === 2);
    assert.deepEqual(sub, { id: 2, subscribe: {} }, 'plain subscribe: empty result object, no error key');
    ws.send(JSON.stringify({ id: 3, unsubscribe: { channel: ch } }));
    await until(() => messages.some((m) => m.id === 3), { what: 'unsubscribe reply' });
    assert.deepEqual(messages.find((m) => m.id === 3), { id: 3, unsubscribe: {} });
    for (const f of frames) {
      const text = f.data.toString();
      assert.ok(!text.split('\n').some((l) => l === ''), `no empty lines in a frame: ${JSON.stringify(text)}`);
    }
    ws.close();
    await closed;
  });

  test('command ids are echoed as sent, even when not starting at 1', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 41, connect: { token: token() } }));
    await until(() => messages.some((m) => m.id === 41), { what: 'connect reply id 41' });
    ws.close();
    await closed;
  });
});

describe('protocol errors', () => {
  test('a command before connect → close 3501', T, async () => {
    const { ws, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, subscribe: { channel: 'x' } }));
    const { code } = await expectClose(closed);
    assert.equal(code, 3501);
  });

  test('no connect within client_stale_close_delay (1s) → close 3502', T, async () => {
    const { closed } = await rawConnect(server.wsUrl);
    const { code } = await expectClose(closed, 4000);
    assert.equal(code, 3502);
  });

  test('a second connect → close 3501', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    await until(() => messages.some((m) => m.id === 1));
    ws.send(JSON.stringify({ id: 2, connect: { token: token() } }));
    const { code } = await expectClose(closed);
    assert.equal(code, 3501);
  });

  test('an incoming message over 65536 bytes → close 1009', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    await until(() => messages.some((m) => m.id === 1));
    ws.send(JSON.stringify({ id: 2, rpc: { method: 'x', data: { pad: 'a'.repeat(70000) } } }));
    const { code } = await expectClose(closed);
    assert.equal(code, 1009);
  });

  test('subscribe with an empty channel → close 3501', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    await until(() => messages.some((m) => m.id === 1));
    ws.send(JSON.stringify({ id: 2, subscribe: { channel: '' } }));
    const { code } = await expectClose(closed);
    assert.equal(code, 3501);
  });

  test('subscribing twice → error 105 reply, connection stays', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    ws.send(JSON.stringify({ id: 2, subscribe: { channel: 'dup' } }));
    await until(() => messages.some((m) => m.id === 2));
    ws.send(JSON.stringify({ id: 3, subscribe: { channel: 'dup' } }));
    await until(() => messages.some((m) => m.id === 3));
    assert.equal(messages.find((m) => m.id === 3).error?.code, 105);
    ws.close();
    const { code } = await closed;
    assert.notEqual(code, 3501);
  });

  test('close reasons are plain text, never JSON', T, async () => {
    const { ws, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, subscribe: { channel: 'x' } }));
    const { code, reason } = await expectClose(closed);
    assert.equal(code, 3501);
    assert.ok(reason.length > 0 && reason.length <= 123, `reason ${JSON.stringify(reason)}`);
    assert.throws(() => JSON.parse(reason), 'reason must not parse as JSON');
  });
});

describe('connection expiry (client-side refresh)', () => {
  test('connect result carries expires/ttl for a token with exp', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: signJWT({ sub: 'u', exp: nowSec(60) }, { key: SECRET }) } }));
    await until(() => messages.some((m) => m.id === 1));
    const r = messages.find((m) => m.id === 1).connect;
    assert.equal(r.expires, true, JSON.stringify(r));
    assert.ok(r.ttl > 50 && r.ttl <= 60, JSON.stringify(r));
    ws.close();
    await closed;
  });

  test('not refreshed by exp + client_expired_close_delay → close 3005', T, async () => {
    const { ws, closed } = await rawConnect(server.wsUrl);
    const t0 = Date.now();
    ws.send(JSON.stringify({ id: 1, connect: { token: signJWT({ sub: 'u', exp: nowSec(2) }, { key: SECRET }) } }));
    const { code, t } = await expectClose(closed, 7000);
    assert.equal(code, 3005);
    assert.ok(t - t0 < 5000, `closed after ${t - t0} ms`);
  });

  test('refresh with a valid token extends the connection', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    let closedWith = null;
    closed.then((c) => { closedWith = c; });
    ws.send(JSON.stringify({ id: 1, connect: { token: signJWT({ sub: 'u', exp: nowSec(2) }, { key: SECRET }) } }));
    await until(() => messages.some((m) => m.id === 1));
    ws.send(JSON.stringify({ id: 2, refresh: { token: signJWT({ sub: 'u', exp: nowSec(120) }, { key: SECRET }) } }));
    await until(() => messages.some((m) => m.id === 2));
    const r = messages.find((m) => m.id === 2);
    assert.equal(r.refresh?.expires, true, JSON.stringify(r));
    assert.ok(r.refresh.ttl > 100, JSON.stringify(r));
    await sleep(4000);
    assert.equal(closedWith, null, `closed: ${JSON.stringify(closedWith)}`);
    ws.close();
  });

  test('refresh with a token of another user → close 3500', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: signJWT({ sub: 'u', exp: nowSec(60) }, { key: SECRET }) } }));
    await until(() => messages.some((m) => m.id === 1));
    ws.send(JSON.stringify({ id: 2, refresh: { token: signJWT({ sub: 'someone-else', exp: nowSec(120) }, { key: SECRET }) } }));
    const { code } = await expectClose(closed);
    assert.equal(code, 3500);
  });
});
