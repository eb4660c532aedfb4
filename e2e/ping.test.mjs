// App-level ping/pong (spec §1.6) with a short interval: the SDK answers
// pings and stays connected; a silent raw client is closed with 3012; a pong
// nobody asked for is a protocol error (3501).

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, closeClients, collect,
  sleep, uid, signJWT, nowSec, tappedWebSocket, rawConnect, until, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    ping_interval: '2s',
    pong_timeout: '1s',
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

const token = () => signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET });

/** Frames that are a bare ping/pong: "{}" in JSON, one 0x00 length byte in protobuf. */
const isPingFrame = (proto, buf) => (proto === 'protobuf' ? buf.length === 1 && buf[0] === 0 : buf.toString().trim() === '{}');

for (const proto of PROTOCOLS) {
  test(`${proto}: SDK stays connected > 5 s answering server pings`, T, async () => {
    const log = [];
    const c = newClient(server, proto, { token: token(), websocket: tappedWebSocket(log) });
    const disconnects = collect(c, 'disconnected');
    const connectings = collect(c, 'connecting');
    await connected(c);
    await sleep(5500);
    assert.equal(c.state, 'connected', `trace: ${traceOf(c)}`);
    assert.equal(disconnects.length, 0, `trace: ${traceOf(c)}`);
    assert.equal(connectings.length, 1, `only the initial connecting: trace ${traceOf(c)}`);
    const pings = log.filter((f) => f.dir === 'in' && isPingFrame(proto, f.data));
    const pongs = log.filter((f) => f.dir === 'out' && isPingFrame(proto, f.data));
    assert.ok(pings.length >= 2, `expected ≥ 2 server pings in 5.5 s with ping_interval 2s, got ${pings.length}`);
    assert.ok(pongs.length >= 2, `expected the SDK to answer pings, got ${pongs.length} pongs`);
  });
}

describe('raw JSON client', () => {
  test('connect result advertises ping 2 and pong true', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token(), name: 'raw' } }));
    await until(() => messages.find((m) => m.id === 1), { what: 'connect reply' });
    const reply = messages.find((m) => m.id === 1);
    assert.ok(reply.connect, JSON.stringify(reply));
    assert.equal(reply.error, undefined, 'success replies carry no error key');
    assert.equal(reply.connect.ping, 2, JSON.stringify(reply));
    assert.equal(reply.connect.pong, true, JSON.stringify(reply));
    assert.match(reply.connect.client, /^[0-9a-f-]{36}$/, 'client id looks like a UUID');
    ws.close();
    await closed;
  });

  test('a client that never answers is closed with 3012 after ping + pong_timeout', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    const t0 = Date.now();
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    const { code, reason, t } = await Promise.race([closed, sleep(6000).then(() => ({ code: 'none' }))]);
    const pings = messages.filter((m) => Object.keys(m).length === 0);
    assert.equal(code, 3012, `close code; reason ${reason}; messages ${JSON.stringify(messages)}`);
    assert.ok(pings.length >= 1, 'at least one ping was sent before closing');
    assert.ok(t - t0 <= 2000 + 1000 + 1000, `closed after ${t - t0} ms (interval 2s + pong 1s)`);
    ws.terminate();
  });

  test('a client that answers every ping stays 5 s', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    let closedWith = null;
    closed.then((c) => { closedWith = c; });
    let answered = 0;
    ws.on('message', (data) => {
      for (const line of data.toString().split('\n')) {
        if (line.trim() === '{}') { ws.send('{}'); answered++; }
      }
    });
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    await sleep(5200);
    assert.equal(closedWith, null, `closed: ${JSON.stringify(closedWith)}; messages ${JSON.stringify(messages)}`);
    assert.ok(answered >= 2, `pings answered: ${answered}`);
    ws.close();
  });

  test('a pong with no ping outstanding → 3501', T, async () => {
    const { ws, messages, closed } = await rawConnect(server.wsUrl);
    ws.send(JSON.stringify({ id: 1, connect: { token: token() } }));
    await until(() => messages.find((m) => m.id === 1), { what: 'connect reply' });
    ws.send('{}');
    const { code } = await Promise.race([closed, sleep(3000).then(() => ({ code: 'none' }))]);
    assert.equal(code, 3501);
  });
});
