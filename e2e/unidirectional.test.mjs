// Unidirectional transports (spec transports §2) with plain clients: curl
// -N for uni_sse and uni_http_stream, a raw WebSocket for uni_websocket (a
// grpc-go client covers uni_grpc in internal/wiring/server). The client
// sends only its connect request; server-side subscriptions (the token's
// channels claim) deliver publications as bare pushes; connect `subs`
// recover what a reconnecting client missed; refused connects and bad
// requests get the spec's answers.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import { T, startServer, uid, signJWT, nowSec, until, sleep, WebSocket } from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    uni_sse: true,
    uni_http_stream: true,
    uni_websocket: true,
    ping_interval: '2s',
    pong_timeout: '1s',
    namespaces: [{ name: 'feed', history_size: 100, history_ttl: '300s', force_recovery: true }],
  });
});
after(() => server?.stop());

const token = (channels, claims = {}) => signJWT({ sub: uid('u'), exp: nowSec(3600), channels, ...claims }, { key: SECRET });

/** Runs curl -sN with args; collects the bare pushes it prints (lines, or SSE data: lines). */
function curl(args) {
  const p = spawn('curl', ['-sN', '--max-time', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '', pushes: [], exited: null, proc: p };
  p.stdout.on('data', (d) => {
    out.text += d.toString();
    const lines = out.text.split('\n');
    out.pushes = lines.map((l) => l.replace(/^data: /, '').trim()).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  });
  p.on('close', (code) => { out.exited = code; }); // close: after its output was read
  return out;
}

const kill = (c) => { if (c.exited === null) c.proc.kill('SIGKILL'); };

const transports = {
  uni_http_stream: (body) => curl(['-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body), `${server.httpUrl}/connection/uni_http_stream`]),
  uni_sse: (body) => curl([`${server.httpUrl}/connection/uni_sse?cf_connect=${encodeURIComponent(JSON.stringify(body))}`]),
};

for (const [name, open] of Object.entries(transports)) {
  describe(`${name} with curl -N`, () => {
    test('connect push, server-side subscription, publications, pings that want no pong', T, async () => {
      const ch = `feed:${uid('c')}`;
      const c = open({ token: token([ch]) });
      try {
        await until(() => c.pushes.length >= 1, { what: `connect push; got ${c.text}` });
        const connect = c.pushes[0].connect;
        assert.ok(connect?.client, c.text);
        assert.ok(connect.subs?.[ch], `subscription in the connect push: ${c.text}`);
        assert.equal(connect.pong, undefined, 'no pong is asked of a unidirectional client');
        for (let i = 1; i <= 3; i++) await server.apiOK('publish', { channel: ch, data: { i } });
        await until(() => c.pushes.filter((p) => p.pub).length === 3, { what: `publications; got ${c.text}` });
        assert.deepEqual(c.pushes.filter((p) => p.pub).map((p) => [p.channel, p.pub.data.i]), [[ch, 1], [ch, 2], [ch, 3]]);
        await sleep(4500); // two ping intervals: the stream stays open without pongs
        assert.equal(c.exited, null, `stream ended: ${c.text}`);
        assert.ok(c.pushes.some((p) => Object.keys(p).length === 0), 'pings are empty pushes');
      } finally { kill(c); }
    });

    test('reconnecting with connect subs recovers what was missed', T, async () => {
      const ch = `feed:${uid('r')}`;
      const tok = token([ch]);
      const first = open({ token: tok });
      let sub;
      try {
        await until(() => first.pushes.length >= 1, { what: 'first connect' });
        sub = first.pushes[0].connect.subs[ch];
        await server.apiOK('publish', { channel: ch, data: { i: 1 } });
        await until(() => first.pushes.some((p) => p.pub), { what: 'first publication' });
      } finally { kill(first); }
      const last = { offset: 1, epoch: sub.epoch };
      for (let i = 2; i <= 4; i++) await server.apiOK('publish', { channel: ch, data: { i } });
      const again = open({ token: tok, subs: { [ch]: { recover: true, offset: last.offset, epoch: last.epoch } } });
      try {
        await until(() => again.pushes.length >= 1, { what: `second connect; got ${again.text}` });
        const rec = again.pushes[0].connect.subs[ch];
        assert.equal(rec.recovered, true, JSON.stringify(rec));
        assert.deepEqual(rec.publications.map((p) => p.data.i), [2, 3, 4]);
      } finally { kill(again); }
    });

    test('a refused connect is a disconnect push: an expired token gets 3005, a bad one 3500', T, async () => {
      const expired = open({ token: signJWT({ sub: 'x', exp: nowSec(-60) }, { key: SECRET }) });
      const bad = open({ token: 'not-a-token' });
      await until(() => expired.exited !== null && bad.exited !== null, { what: 'both streams end' });
      assert.deepEqual(expired.pushes.map((p) => p.disconnect?.code), [3005], expired.text);
      assert.deepEqual(bad.pushes.map((p) => p.disconnect?.code), [3500], bad.text);
    });
  });
}

describe('uni HTTP: bad requests', () => {
  const status = async (url, init) => (await fetch(url, init)).status;
  test('400 for a connect request that is not an object, 413 oversize, 405 wrong method', T, async () => {
    assert.equal(await status(`${server.httpUrl}/connection/uni_http_stream`, { method: 'POST', body: '[1]' }), 400);
    assert.equal(await status(`${server.httpUrl}/connection/uni_sse?cf_connect=%5B1%5D`), 400);
    assert.equal(await status(`${server.httpUrl}/connection/uni_http_stream`, { method: 'POST', body: 'x'.repeat(70000) }), 413);
    assert.equal(await status(`${server.httpUrl}/connection/uni_http_stream`), 405);
    assert.equal(await status(`${server.httpUrl}/connection/uni_sse`, { method: 'PUT' }), 405);
  });
});

describe('uni_websocket with a raw WebSocket', () => {
  /** Opens the socket; resolves with { ws, msgs, closed } once open. */
  function openWS(query, first) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/connection/uni_websocket${query}`);
      const st = { ws, msgs: [], closed: null };
      ws.on('message', (d) => st.msgs.push(JSON.parse(d.toString())));
      ws.on('close', (code, reason) => { st.closed = { code, reason: reason.toString() }; });
      ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', reject);
      ws.on('open', () => { if (first !== undefined) ws.send(first); resolve(st); });
    });
  }

  test('connect request as the first message: connect push, then a push per message', T, async () => {
    const ch = `feed:${uid('w')}`;
    const st = await openWS('', JSON.stringify({ token: token([ch]) }));
    try {
      await until(() => st.msgs.length >= 1, { what: 'connect push' });
      assert.ok(st.msgs[0].connect?.subs?.[ch], JSON.stringify(st.msgs));
      await server.apiOK('publish', { channel: ch, data: { n: 1 } });
      await server.apiOK('publish', { channel: ch, data: { n: 2 } });
      await until(() => st.msgs.filter((m) => m.pub).length === 2, { what: 'two publication messages' });
      assert.deepEqual(st.msgs.filter((m) => m.pub).map((m) => m.pub.data.n), [1, 2]);
    } finally { st.ws.close(); }
  });

  test('connect request in cf_connect; a server disconnect arrives as a push and a close frame', T, async () => {
    const user = uid('k');
    const tok = signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });
    const st = await openWS(`?cf_connect=${encodeURIComponent(JSON.stringify({ token: tok }))}`);
    await until(() => st.msgs.length >= 1, { what: 'connect push' });
    await server.apiOK('disconnect', { user, disconnect: { code: 4501, reason: 'banned' } });
    await until(() => st.closed, { what: 'close' });
    assert.deepEqual(st.closed, { code: 4501, reason: 'banned' });
    assert.deepEqual(st.msgs.at(-1), { disconnect: { code: 4501, reason: 'banned' } });
  });

  test('a bad first message closes 3501; a bad cf_connect is refused with 400 before the upgrade', T, async () => {
    const st = await openWS('', 'not json');
    await until(() => st.closed, { what: 'close' });
    assert.equal(st.closed.code, 3501);
    await assert.rejects(openWS('?cf_connect=%5B1%5D'), /HTTP 400/);
  });
});
