// HTTP-streaming and SSE (bidirectional emulation, spec transports §1) with
// the real centrifuge SDK under Node: Node's fetch and ReadableStream for
// HTTP-streaming, the pinned `eventsource` package for SSE. Every behaviour
// the spec's test table lists for these transports: connect, subscribe,
// publish, presence, RPC, commands issued before the connect reply, token
// refresh, pings answered through /emulation, recovery after a dropped
// stream, server disconnects of each code family, and the SDK's fallback
// list with WebSocket (then HTTP-streaming) switched off on the server.
// The raw HTTP rules (methods, CORS, limits, bad bodies, unknown node) are
// checked with plain fetch.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';

import {
  T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, dec, enc, until, startRelay, traceOf,
} from './helpers.mjs';
import { startRedis } from './procs.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

// The transports the SDK offers, with the formats it supports on each.
const CASES = [
  { transport: 'http_stream', proto: 'json' },
  { transport: 'http_stream', proto: 'protobuf' },
  { transport: 'sse', proto: 'json' },
];

const serverConfig = (extra = {}) => ({
  token_hmac_secret_key: SECRET,
  api_key: API_KEY,
  allowed_origins: ['http://app.example'],
  http_stream: true,
  sse: true,
  // Pings every 2 s, so a test that lives for 5 s sees pongs travel
  // through /emulation.
  ping_interval: '2s',
  pong_timeout: '1s',
  namespaces: [
    { name: 'chat', allow_subscribe_for_client: true, allow_publish_for_subscriber: true, presence: true, allow_presence_for_subscriber: true },
    { name: 'rec', allow_subscribe_for_client: true, history_size: 1000, history_ttl: '300s', force_recovery: true },
  ],
  ...extra,
});

let server;
before(async () => { server = await startServer(serverConfig()); });
after(() => server?.stop());
afterEach(() => closeClients());

const token = (user, exp = nowSec(3600)) => signJWT({ sub: user, exp }, { key: SECRET });

/**
 * An SDK client on one emulated transport (or a fallback list of them).
 * streamBase lets a test put the stream behind a relay while commands go
 * straight to the server (or to another node).
 */
function emuClient(srv, proto, transports, opts = {}) {
  const { streamBase = srv.httpUrl, emulationBase = srv.httpUrl, ...rest } = opts;
  const list = (Array.isArray(transports) ? transports : [transports]).map((t) => ({
    transport: t,
    endpoint: t === 'websocket' ? srv.wsUrl : `${streamBase}/connection/${t}`,
  }));
  return newClient(srv, proto, {
    url: list,
    emulationEndpoint: `${emulationBase}/emulation`,
    fetch,
    readableStream: ReadableStream,
    eventsource: EventSource,
    ...rest,
  });
}

for (const { transport, proto } of CASES) {
  describe(`${transport} ${proto}`, () => {
    test('connect reports the transport; subscribe, publish and receive, presence and presence stats', T, async () => {
      const user = uid('u');
      const c = emuClient(server, proto, transport, { token: token(user) });
      const ctx = await connected(c);
      assert.equal(ctx.transport, transport, `trace: ${traceOf(c)}`);
      const channel = `chat:${uid('c')}`;
      const [sub] = await subscribed(c, channel);
      const pubs = collect(sub, 'publication');
      await sub.publish(enc(proto, { from: 'client' }));
      await server.apiOK('publish', { channel, data: { from: 'api' } });
      await until(() => pubs.length === 2, { what: 'both publications' });
      assert.deepEqual(pubs.map((p) => dec(proto, p.data).from), ['client', 'api']);
      const pres = await sub.presence();
      assert.deepEqual(Object.values(pres.clients).map((x) => x.user), [user]);
      const stats = await sub.presenceStats();
      assert.deepEqual(stats, { numClients: 1, numUsers: 1 });
    });

    test('RPC without a handler is refused with 108; commands issued before the connect reply wait for it', T, async () => {
      const c = emuClient(server, proto, transport, { token: token(uid('u')) });
      c.connect();
      // Issued while the stream is still opening: the SDK holds them
      // until the connect reply, then posts them to /emulation.
      const rpc = c.rpc('nothing', enc(proto, {})).then(() => 'resolved', (e) => e.code);
      const channel = `chat:${uid('c')}`;
      const sub = c.newSubscription(channel);
      const subscribedP = waitEvent(sub, 'subscribed');
      sub.subscribe();
      assert.equal(await rpc, 108, `trace: ${traceOf(c)}`);
      await subscribedP;
      assert.equal(c.state, 'connected');
    });

    test('pings answered and a token about to expire refreshed, both through /emulation, without reconnecting', T, async () => {
      // One wait covers both: ping_interval 2s with pong_timeout 1s closes
      // a client that does not pong within 3 s (3012), and a token that
      // expires after 2 s closes one that does not refresh (3005).
      const user = uid('u');
      let calls = 0;
      const c = emuClient(server, proto, transport, {
        token: token(user, nowSec(2)),
        getToken: async () => { calls++; return token(user); },
      });
      const disconnects = collect(c, 'disconnected');
      const connectings = collect(c, 'connecting');
      await connected(c);
      await sleep(5500);
      assert.ok(calls >= 1, `getToken must be called; trace: ${traceOf(c)}`);
      assert.equal(c.state, 'connected', `trace: ${traceOf(c)}`);
      assert.equal(disconnects.length, 0, `trace: ${traceOf(c)}`);
      assert.equal(connectings.length, 1, `only the initial connecting; trace: ${traceOf(c)}`);
    });

    test('a dropped stream reconnects and recovers every publication exactly once', T, async () => {
      const relay = await startRelay(server.port);
      try {
        const c = emuClient(server, proto, transport, { token: token(uid('u')), streamBase: `http://127.0.0.1:${relay.port}` });
        await connected(c);
        const channel = `rec:${uid('r')}`;
        const [sub] = await subscribed(c, channel);
        const pubs = collect(sub, 'publication');
        const resubs = collect(sub, 'subscribed');
        for (let i = 1; i <= 3; i++) await server.apiOK('publish', { channel, data: { i } });
        await until(() => pubs.length === 3, { what: 'live publications' });
        const reconnecting = waitEvent(c, 'connecting', { what: 'reconnect after the drop' });
        relay.drop();
        await reconnecting;
        for (let i = 4; i <= 8; i++) await server.apiOK('publish', { channel, data: { i } });
        await until(() => resubs.length === 1, { timeout: 8000, what: `resubscribe; trace: ${traceOf(c)}` });
        assert.equal(resubs[0].wasRecovering, true);
        assert.equal(resubs[0].recovered, true, `recovered; ${JSON.stringify(resubs[0])}`);
        await until(() => pubs.length === 8, { what: 'recovered publications' });
        assert.deepEqual(pubs.map((p) => dec(proto, p.data).i), [1, 2, 3, 4, 5, 6, 7, 8]);
        await server.apiOK('publish', { channel, data: { i: 9 } });
        await until(() => pubs.length === 9, { what: 'live after recovery' });
      } finally {
        await relay.close();
      }
    });

    test('loops and many: connect/disconnect and subscribe/unsubscribe 5 times, 20 subscriptions at once, a private channel with a subscription token', T, async () => {
      const user = uid('loop');
      const c = emuClient(server, proto, transport, {
        token: token(user),
      });
      for (let i = 0; i < 5; i++) {
        await connected(c);
        const closed = waitEvent(c, 'disconnected');
        c.disconnect();
        await closed;
      }
      await connected(c);
      const channel = `chat:${uid('s')}`;
      const sub = c.newSubscription(channel);
      for (let i = 0; i < 5; i++) {
        const on = waitEvent(sub, 'subscribed');
        sub.subscribe();
        await on;
        const off = waitEvent(sub, 'unsubscribed');
        sub.unsubscribe();
        await off;
      }
      c.removeSubscription(sub);
      const many = Array.from({ length: 20 }, (_, i) => c.newSubscription(`chat:${uid(`m${i}`)}`));
      await Promise.all(many.map((s) => { const p = waitEvent(s, 'subscribed'); s.subscribe(); return p; }));
      const last = many.at(-1);
      const pub = waitEvent(last, 'publication');
      await server.apiOK('publish', { channel: last.channel, data: { n: 20 } });
      assert.equal(dec(proto, (await pub).data).n, 20);
      const priv = `$chat:${uid('p')}`;
      const getToken = async (ctx) => signJWT({ sub: user, channel: ctx.channel, exp: nowSec(3600) }, { key: SECRET });
      const [ps] = await subscribed(c, priv, { getToken });
      assert.equal(ps.state, 'subscribed');
      // The server saw every stream of the loop go away: one connection left.
      await until(async () => (await server.apiOK('info', {})).nodes[0].num_clients === 1, { what: 'aborted streams cleaned up' });
    });

    test('server disconnects: 3503 terminal, 3011 reconnects, app code 4501 with its reason', T, async () => {
      const user = uid('dc');
      const c = emuClient(server, proto, transport, { token: token(user) });
      await connected(c);
      const reconnecting = waitEvent(c, 'connecting', { what: 'connecting after 3011' });
      await server.apiOK('disconnect', { user, disconnect: { code: 3011, reason: 'force reconnect' } });
      assert.equal((await reconnecting).code, 3011, `trace: ${traceOf(c)}`);
      await waitEvent(c, 'connected', { what: 'reconnected after 3011' });

      const app = waitEvent(c, 'disconnected');
      await server.apiOK('disconnect', { user, disconnect: { code: 4501, reason: 'banned' } });
      const ctx = await app;
      assert.deepEqual([ctx.code, ctx.reason], [4501, 'banned'], `trace: ${traceOf(c)}`);

      const c2 = emuClient(server, proto, transport, { token: token(user) });
      await connected(c2);
      const connecting = collect(c2, 'connecting');
      const terminal = waitEvent(c2, 'disconnected');
      await server.apiOK('disconnect', { user });
      assert.equal((await terminal).code, 3503);
      await sleep(500);
      assert.equal(c2.state, 'disconnected');
      assert.equal(connecting.length, 0, `no reconnect after 3503; trace: ${traceOf(c2)}`);
    });
  });
}

describe('fallback list', () => {
  const steps = [
    { off: 'WebSocket', extra: { websocket_disable: true }, want: 'http_stream' },
    { off: 'WebSocket and HTTP-streaming', extra: { websocket_disable: true, http_stream: false }, want: 'sse' },
  ];
  for (const { off, extra, want } of steps) {
    test(`${off} off: the SDK falls back to ${want}, and everything works`, T, async () => {
      const srv = await startServer(serverConfig(extra));
      try {
        const c = emuClient(srv, 'json', ['websocket', 'http_stream', 'sse'], { token: token(uid('u')) });
        const ctx = await connected(c, 10000);
        assert.equal(ctx.transport, want, `trace: ${traceOf(c)}`);
        const channel = `chat:${uid('c')}`;
        const [sub] = await subscribed(c, channel);
        const pub = waitEvent(sub, 'publication');
        await srv.apiOK('publish', { channel, data: { n: 1 } });
        assert.equal((await pub).data.n, 1);
      } finally {
        closeClients();
        await srv.stop();
      }
    });
  }
});

/** spindle_transport_emulation_requests_total{result} from a node's /metrics. */
async function emulationCount(srv, result) {
  const text = await (await fetch(`${srv.httpUrl}/metrics`)).text();
  const m = text.match(new RegExp(`^spindle_transport_emulation_requests_total\\{result="${result}"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Behind a load balancer without sticky sessions the stream and the
// commands reach different nodes: the node that gets a command forwards
// it through Redis to the node holding the session.
describe('two nodes on Redis, no sticky sessions', () => {
  let redis;
  let nodes;
  before(async () => {
    redis = await startRedis();
    nodes = await Promise.all([1, 2].map(() => startServer(serverConfig({ engine: 'redis', redis_address: redis.address }))));
    await until(async () => (await nodes[1].apiOK('info', {})).nodes.length === 2, { timeout: 10000, what: 'both nodes see each other' });
  });
  after(async () => {
    closeClients();
    await Promise.all((nodes || []).map((n) => n.stop()));
    await redis?.kill();
  });

  for (const { transport, proto } of CASES) {
    test(`${transport} ${proto}: stream on one node, commands posted to the other`, T, async () => {
      const [a, b] = nodes;
      const c = emuClient(a, proto, transport, { token: token(uid('u')), emulationBase: b.httpUrl });
      await connected(c);
      const channel = `chat:${uid('c')}`;
      const [sub] = await subscribed(c, channel);
      const pubs = collect(sub, 'publication');
      await sub.publish(enc(proto, { via: 'client' }));
      await b.apiOK('publish', { channel, data: { via: 'api on b' } });
      await until(() => pubs.length === 2, { what: 'both publications' });
      assert.deepEqual(pubs.map((p) => dec(proto, p.data).via).sort(), ['api on b', 'client']);
      const pres = await sub.presence();
      assert.equal(Object.keys(pres.clients).length, 1);
      assert.equal(await c.rpc('nothing', enc(proto, {})).then(() => 0, (e) => e.code), 108);
      // The commands went to b, which forwarded them to a, where they ran.
      assert.ok(await emulationCount(b, 'forwarded') >= 3, 'b forwarded the subscribe, publish, presence and rpc');
      assert.equal(await emulationCount(b, 'local'), 0, 'no session lives on b');
      assert.ok(await emulationCount(a, 'local') >= 3, 'a ran them');
    });
  }
});

describe('raw HTTP', () => {
  const url = (p) => `${server.httpUrl}${p}`;
  const connectBody = JSON.stringify({ id: 1, connect: { token: token(uid('raw')) } });

  /** Reads a streaming response until `want` text appeared (or 3 s), then aborts it. */
  async function readStream(res, ctl, want) {
    const reader = res.body.getReader();
    let text = '';
    const deadline = Date.now() + 3000;
    while (!text.includes(want) && Date.now() < deadline) {
      const { value, done } = await Promise.race([reader.read(), sleep(3000).then(() => ({ done: true }))]);
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ctl.abort();
    return text;
  }

  test('HTTP-stream: headers for proxies and caches, one reply per line, connect result names session and node', T, async () => {
    const ctl = new AbortController();
    const res = await fetch(url('/connection/http_stream'), { method: 'POST', body: connectBody, signal: ctl.signal, headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    assert.match(res.headers.get('cache-control'), /no-cache/);
    const text = await readStream(res, ctl, '\n');
    const reply = JSON.parse(text.split('\n')[0]);
    assert.equal(reply.id, 1);
    assert.match(reply.connect.session, /^[0-9a-f-]{36}$/);
    assert.match(reply.connect.node, /^[0-9a-f-]{36}$/);
    const info = await server.apiOK('info', {});
    assert.ok(info.nodes.some((n) => n.uid === reply.connect.node), 'node is the server node id');
  });

  test('SSE: event-stream content type, a CRLF first, then data: events', T, async () => {
    const ctl = new AbortController();
    const res = await fetch(url(`/connection/sse?cf_connect=${encodeURIComponent(connectBody)}`), { signal: ctl.signal });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const text = await readStream(res, ctl, '\n\n');
    assert.ok(text.startsWith('\r\ndata: {"id":1,"connect":{'), JSON.stringify(text.slice(0, 60)));
  });

  test('methods: 405 for the wrong one, 204 preflights with max-age', T, async () => {
    assert.equal((await fetch(url('/connection/http_stream'))).status, 405);
    assert.equal((await fetch(url('/connection/sse'), { method: 'PUT' })).status, 405);
    assert.equal((await fetch(url('/emulation'))).status, 405);
    for (const p of ['/connection/http_stream', '/emulation']) {
      const res = await fetch(url(p), { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Headers': 'content-type' } });
      assert.equal(res.status, 204, p);
      assert.equal(res.headers.get('access-control-max-age'), '300');
      assert.equal(res.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
      assert.equal(res.headers.get('access-control-allow-origin'), 'http://app.example');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(res.headers.get('access-control-allow-headers'), 'content-type');
    }
  });

  test('CORS: a foreign origin gets no CORS headers but is not refused (as Centrifugo)', T, async () => {
    const res = await fetch(url('/emulation'), { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  test('bad input: missing cf_connect 400, oversize body 413, malformed emulation body 400, unknown node 404, unknown session 204', T, async () => {
    assert.equal((await fetch(url('/connection/sse'))).status, 400);
    const big = 'x'.repeat(70000);
    assert.equal((await fetch(url('/connection/http_stream'), { method: 'POST', body: big })).status, 413);
    assert.equal((await fetch(url('/emulation'), { method: 'POST', body: big })).status, 413);
    assert.equal((await fetch(url('/emulation'), { method: 'POST', body: '{"node":' })).status, 400);
    assert.equal((await fetch(url('/emulation'), { method: 'POST', body: '{"node":"n","session":"s","data":{}}' })).status, 400, 'data must be a string');
    assert.equal((await fetch(url('/emulation'), { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array([0x0a, 0x05, 0x01]) })).status, 400, 'truncated protobuf');
    assert.equal((await fetch(url('/emulation'), { method: 'POST', body: JSON.stringify({ node: 'nope', session: 's', data: '{}' }) })).status, 404);
    const info = await server.apiOK('info', {});
    const res = await fetch(url('/emulation'), { method: 'POST', body: JSON.stringify({ node: info.nodes[0].uid, session: 'gone', data: '{}' }) });
    assert.equal(res.status, 204);
  });

  test('a malformed command on /emulation closes that session with 3501 and nobody else', T, async () => {
    const ctl = new AbortController();
    const res = await fetch(url('/connection/http_stream'), { method: 'POST', body: connectBody, signal: ctl.signal });
    const reader = res.body.getReader();
    let text = '';
    while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
    const { session, node } = JSON.parse(text.split('\n')[0]).connect;
    const bystander = emuClient(server, 'json', 'http_stream', { token: token(uid('u')) });
    await connected(bystander);
    const r = await fetch(url('/emulation'), { method: 'POST', body: JSON.stringify({ node, session, data: '{"id":2,"subscribe":' }) });
    assert.equal(r.status, 204);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /"disconnect":\{"code":3501/, text);
    assert.equal(bystander.state, 'connected');
  });
});
