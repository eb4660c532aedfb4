// Proxied events with real processes (spec §2, §1.8): `spindle server` asks
// the Go example app (examples/goapp) about connect, subscribe, publish and
// RPC, over the gRPC proxy and over the HTTP proxy (the app serves both on one
// port), with the real centrifuge SDK in both wire formats. Refresh,
// sub_refresh, connect data and server-side channels — which goapp does not
// answer — go to a scripted backend written here from the spec (procs.mjs),
// again over both transports. Also: the Spiral docs' config with a matching
// .rr.yaml under `checkconfig --app`, and two app processes serving
// different events.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, dec, enc, traceOf, freePort, writeTempFile, runSpindle, until,
} from './helpers.mjs';
import { ensureGoapp, T30, HOOK, startGoapp, goappEvents, startScriptedApp } from './procs.mjs';

const TRANSPORTS = ['grpc', 'http'];
const API_KEY = 'e2e-api-' + uid();

await ensureGoapp();
afterEach(() => closeClients());

/** Proxy endpoint of `event` on goapp for the transport. */
const goappEndpoint = (app, transport, event) => (transport === 'grpc' ? app.grpc : app.http(event));

/** Connects a client whose connect data is `data` (encoded for its format); returns {c, ctx}. */
async function connectWith(server, proto, data, opts = {}) {
  const c = newClient(server, proto, { ...(data === undefined ? {} : { data: enc(proto, data) }), ...opts });
  const ctx = await connected(c);
  return { c, ctx };
}

/** RPC through the SDK; returns the decoded result data. */
async function rpc(c, method, data = {}) {
  const res = await c.rpc(method, enc(c.__proto, data));
  return dec(c.__proto, res.data);
}

/** Starts a client that must end terminally; resolves the 'disconnected' ctx. */
async function terminalDisconnect(server, proto, data) {
  const c = newClient(server, proto, { data: enc(proto, data) });
  const errors = collect(c, 'error');
  const p = waitEvent(c, 'disconnected', { timeout: 8000, what: 'terminal disconnect' });
  c.connect();
  const ctx = await p.catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
  return { c, ctx, errors };
}

// ---------------------------------------------------------------------------
// goapp behind the server.

for (const transport of TRANSPORTS) {
  describe(`${transport} proxy → goapp`, () => {
    let app;
    let server;
    before(async () => {
      app = await startGoapp();
      const ep = (e) => goappEndpoint(app, transport, e);
      server = await startServer({
        api_key: API_KEY,
        proxy_connect_endpoint: ep('connect'),
        proxy_connect_timeout: '3s',
        proxy_subscribe_endpoint: ep('subscribe'),
        proxy_subscribe_timeout: '3s',
        proxy_publish_endpoint: ep('publish'),
        proxy_publish_timeout: '3s',
        proxy_rpc_endpoint: ep('rpc'),
        proxy_rpc_timeout: '3s',
        namespaces: [
          { name: 'public', proxy_subscribe: true, proxy_publish: true },
          { name: 'members', proxy_subscribe: true, proxy_publish: true },
        ],
      });
    }, HOOK);
    after(async () => { await server?.stop(); await app?.stop(); }, HOOK);

    for (const proto of PROTOCOLS) {
      test(`${proto}: connect decided by the app — user from the token in connect data, anonymous without`, T30, async () => {
        const { c, ctx } = await connectWith(server, proto, { token: 'alice-token' });
        assert.ok(ctx.client, 'connected ctx carries the client id');
        const me = await rpc(c, 'whoami');
        assert.deepEqual(me, { user: 'alice', client: ctx.client, transport: 'websocket' });

        const anon = await connectWith(server, proto, undefined);
        assert.equal((await rpc(anon.c, 'whoami')).user, '');

        const events = goappEvents(app).filter((e) => e.type === 'connect');
        assert.ok(events.length >= 2, `goapp logged the connects:\n${app.tail()}`);
      });

      test(`${proto}: denied connect (app error 400) → SDK error + terminal disconnect 400`, T30, async () => {
        // Connect data that is no JSON object makes goapp answer Deny(400).
        const { ctx, errors } = await terminalDisconnect(server, proto, [1, 2, 3]);
        assert.equal(ctx.code, 400, JSON.stringify(ctx));
        assert.match(ctx.reason, /JSON object/);
        assert.equal(errors.length, 0, `a non-temporary connect error is terminal, not retried: ${JSON.stringify(errors)}`);
      });

      test(`${proto}: disconnect answer (4501 invalid token) → terminal close code 4501`, T30, async () => {
        const { c, ctx } = await terminalDisconnect(server, proto, { token: 'stolen-token' });
        assert.equal(ctx.code, 4501, `${JSON.stringify(ctx)}; trace: ${traceOf(c)}`);
        assert.equal(ctx.reason, 'invalid token');
        await sleep(600); // longer than maxReconnectDelay: a terminal close must not reconnect
        assert.equal(c.state, 'disconnected', traceOf(c));
        assert.doesNotMatch(` ${traceOf(c)}`, / connected:/, 'never connected');
      });

      test(`${proto}: subscribe allowed for members, denied (403) for anonymous`, T30, async () => {
        const channel = `members:${uid('room')}`;
        const alice = await connectWith(server, proto, { token: 'alice-token' });
        const [sub] = await subscribed(alice.c, channel);
        assert.equal(sub.state, 'subscribed');

        const anon = await connectWith(server, proto, undefined);
        const s = anon.c.newSubscription(channel);
        const unsub = waitEvent(s, 'unsubscribed', { timeout: 5000, what: 'denied subscribe' });
        s.subscribe();
        const ctx = await unsub;
        assert.equal(ctx.code, 403, JSON.stringify(ctx));
        assert.equal(ctx.reason, 'permission denied');
        // public:* is open to everyone.
        await subscribed(anon.c, `public:${uid('p')}`);
      });

      test(`${proto}: publish validated and rewritten — subscribers see the app's data`, T30, async () => {
        const channel = `members:${uid('chat')}`;
        const alice = await connectWith(server, proto, { token: 'alice-token' });
        const bob = await connectWith(server, proto, { token: 'bob-token' });
        const [bobSub] = await subscribed(bob.c, channel);
        await subscribed(alice.c, channel);
        const got = waitEvent(bobSub, 'publication', { what: 'rewritten publication' });
        const before = Date.now();
        await alice.c.publish(channel, enc(proto, { text: 'hi' }));
        const pub = await got;
        const data = dec(proto, pub.data);
        assert.equal(data.text, 'hi');
        assert.equal(data.from, 'alice', `app stamped the publisher: ${JSON.stringify(data)}`);
        assert.ok(data.server_ts >= before - 5000 && data.server_ts <= Date.now() + 5000, JSON.stringify(data));
        assert.equal(pub.info?.user, 'alice', 'publication carries the publisher\'s client info');

        // Not a JSON object → the app refuses with 400, nothing is delivered.
        const pubs = collect(bobSub, 'publication');
        await assert.rejects(alice.c.publish(channel, enc(proto, [1])), (e) => e.code === 400 && /JSON object/.test(e.message));
        await sleep(300);
        assert.equal(pubs.length, 0, 'a refused publication reaches nobody');
      });

      test(`${proto}: RPC answered by the app; unknown method → 104`, T30, async () => {
        const { c } = await connectWith(server, proto, { token: 'bob-token' });
        assert.deepEqual(await rpc(c, 'echo', { a: [1, 'two'] }), { a: [1, 'two'] });
        await assert.rejects(c.rpc('no.such.method', enc(proto, {})), (e) => {
          assert.equal(e.code, 104, JSON.stringify(e));
          assert.ok(!e.temporary, 'method not found is not temporary');
          return true;
        });
      });
    }
  });
}

// ---------------------------------------------------------------------------
// The scripted backend: what goapp does not answer.

const nowSec = (d = 0) => Math.floor(Date.now() / 1000) + d;

/** Answers: connect from data.user, with data/channels/expiry; refresh and sub_refresh extend by 2 s unless told to expire. */
function scriptedHandler(event, req) {
  switch (event) {
    case 'connect': {
      const d = req.data || {};
      return {
        result: {
          user: d.user || '',
          data: { welcome: d.user, got: d, protocol: req.protocol, name: req.name },
          channels: d.channels || [],
          ...(d.expireIn ? { expire_at: nowSec(d.expireIn) } : {}),
        },
      };
    }
    case 'refresh':
      return req.user.startsWith('expire') ? { result: { expired: true } } : { result: { expire_at: nowSec(2) } };
    case 'subscribe':
      return { result: { expire_at: nowSec(2) } };
    case 'sub_refresh':
      return req.channel.includes('expire') ? { result: { expired: true } } : { result: { expire_at: nowSec(2) } };
    case 'rpc':
      return { result: { data: { method: req.method, user: req.user } } };
    default:
      return {};
  }
}

for (const transport of TRANSPORTS) {
  describe(`${transport} proxy → scripted app: connect data and channels, refresh, sub_refresh`, () => {
    let app;
    let server;
    before(async () => {
      app = await startScriptedApp(scriptedHandler);
      const ep = (e) => app.endpoint(transport, e);
      server = await startServer({
        api_key: API_KEY,
        proxy_connect_endpoint: ep('connect'),
        proxy_refresh_endpoint: ep('refresh'),
        proxy_subscribe_endpoint: ep('subscribe'),
        proxy_sub_refresh_endpoint: ep('sub_refresh'),
        proxy_rpc_endpoint: ep('rpc'),
        // Subscription expiry is checked on the presence tick (as in Centrifugo), 27 s by default.
        client_presence_update_interval: '1s',
        namespaces: [
          { name: 'srv' },
          { name: 'exp', proxy_subscribe: true, proxy_sub_refresh: true },
        ],
      });
    }, HOOK);
    after(async () => { await server?.stop(); await app?.close(); }, HOOK);

    test('connect result data reaches ctx.data; its channels are subscribed by the server (both formats)', T30, async () => {
      await Promise.all(PROTOCOLS.map(async (proto) => {
        const user = uid('u');
        const channel = `srv:${user}`;
        const c = newClient(server, proto, { data: enc(proto, { user, channels: [channel] }) });
        const serverSub = waitEvent(c, 'subscribed', { filter: (ctx) => ctx.channel === channel, what: 'server-side subscription' });
        const ctx = await connected(c);
        const data = dec(proto, ctx.data);
        assert.equal(data.welcome, user, JSON.stringify(data));
        assert.deepEqual(data.got, { user, channels: [channel] }, 'the app received the connect data as sent');
        assert.equal(data.protocol, proto, 'the proxy request names the client protocol');
        assert.equal(data.name, 'js', 'the proxy request carries the SDK name');
        await serverSub;

        const pub = waitEvent(c, 'publication', { filter: (p) => p.channel === channel, what: 'publication on the server-side channel' });
        await server.apiOK('publish', { channel, data: { to: user } });
        assert.deepEqual(dec(proto, (await pub).data), { to: user });
        assert.equal((await rpc(c, 'whoami')).user, user, 'later proxy calls carry the user from the connect result');
      }));
    });

    test('refresh proxy prolongs a connection past its first expiry (both formats)', T30, async () => {
      const clients = await Promise.all(PROTOCOLS.map(async (proto) => {
        const user = uid('u');
        const c = newClient(server, proto, { data: enc(proto, { user, expireIn: 2 }) });
        const ctx = await connected(c);
        return { c, user, client: ctx.client };
      }));
      await sleep(5000);
      for (const { c, user, client } of clients) {
        assert.equal(c.state, 'connected', traceOf(c));
        assert.equal(c.__trace.filter((t) => t.startsWith('connected')).length, 1, `one connection, never dropped: ${traceOf(c)}`);
        const refreshes = app.callsOf('refresh', (r) => r.client === client);
        assert.ok(refreshes.length >= 2, `refresh proxy called at least twice in 5 s (expiry every 2 s), got ${refreshes.length}`);
        assert.ok(refreshes.every((r) => r.req.user === user), JSON.stringify(refreshes));
        assert.equal((await rpc(c, 'whoami')).user, user);
      }
    });

    test('refresh answered expired → connection closed 3005', T30, async () => {
      await Promise.all(PROTOCOLS.map(async (proto) => {
        const user = uid('expire');
        const c = newClient(server, proto, { data: enc(proto, { user, expireIn: 1 }) });
        const closed = waitEvent(c, 'connecting', { timeout: 8000, filter: (ctx) => ctx.code === 3005, what: '3005 connection expired' });
        await connected(c);
        const ctx = await closed.catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
        assert.equal(ctx.code, 3005);
        c.disconnect();
      }));
    });

    test('sub_refresh proxy keeps a subscription with expire_at alive (both formats)', T30, async () => {
      const subs = await Promise.all(PROTOCOLS.map(async (proto) => {
        const user = uid('u');
        const c = newClient(server, proto, { data: enc(proto, { user }) });
        const ctx = await connected(c);
        const channel = `exp:${uid('keep')}`;
        const [sub, sctx] = await subscribed(c, channel);
        return { proto, c, sub, channel, client: ctx.client, sctx, unsubs: collect(sub, 'unsubscribed'), subscribing: collect(sub, 'subscribing') };
      }));
      await sleep(5000);
      for (const { proto, c, sub, channel, client, unsubs, subscribing } of subs) {
        assert.equal(sub.state, 'subscribed', traceOf(c));
        assert.deepEqual(unsubs, [], 'never unsubscribed');
        assert.deepEqual(subscribing, [], 'never resubscribed');
        const calls = app.callsOf('sub_refresh', (r) => r.client === client && r.channel === channel);
        assert.ok(calls.length >= 2, `sub_refresh proxy called at least twice in 5 s, got ${calls.length}`);
        const pub = waitEvent(sub, 'publication');
        await server.apiOK('publish', { channel, data: { still: 'here' } });
        assert.deepEqual(dec(proto, (await pub).data), { still: 'here' });
      }
    });

    test('sub_refresh answered expired → subscription ends with 2501 and the SDK resubscribes', T30, async () => {
      await Promise.all(PROTOCOLS.map(async (proto) => {
        const c = newClient(server, proto, { data: enc(proto, { user: uid('u') }) });
        await connected(c);
        const [sub] = await subscribed(c, `exp:${uid('expire')}`);
        const ctx = await waitEvent(sub, 'subscribing', { timeout: 8000, filter: (x) => x.code === 2501, what: '2501 subscription expired' })
          .catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
        assert.equal(ctx.code, 2501, JSON.stringify(ctx));
      }));
    });
  });
}

// ---------------------------------------------------------------------------
// Spiral docs config + .rr.yaml.

/** The Spiral docs' config.json (typo fixed), on our ports. */
function spiralConfigText({ port, appPort, grpcPort }) {
  const ep = `grpc://127.0.0.1:${appPort}`;
  return `{
  // ...
  "address": "127.0.0.1",
  "port": ${port},
  "health": true,
  "api_key": "${API_KEY}",
  "allowed_origins": ["*"],
  "publish": true,
  "proxy_publish": true,
  "proxy_subscribe": true,
  "proxy_connect": true,
  "allow_subscribe_for_client": true,
  "proxy_connect_endpoint": "${ep}",
  "proxy_connect_timeout": "10s",
  "proxy_publish_endpoint": "${ep}",
  "proxy_publish_timeout": "10s",
  "proxy_subscribe_endpoint": "${ep}",
  "proxy_subscribe_timeout": "10s",
  "proxy_refresh_endpoint": "${ep}",
  "proxy_refresh_timeout": "10s",
  "proxy_rpc_endpoint": "${ep}",
  "proxy_rpc_timeout": "10s",
  "grpc_api": true,
  "grpc_api_address": "127.0.0.1",
  "grpc_api_port": ${grpcPort}
}
`;
}

/** A .rr.yaml in the Spiral docs' shape. */
const rrYaml = ({ appPort, grpcPort }) => `version: "3"
rpc:
  listen: tcp://127.0.0.1:6001
server:
  command: "php app.php"
  relay: pipes
centrifuge:
  proxy_address: "tcp://0.0.0.0:${appPort}"
  grpc_api_address: "127.0.0.1:${grpcPort}"
`;

describe('Spiral docs config.json + .rr.yaml', () => {
  test('checkconfig --app: matching pair → exit 0; the pair then works with goapp on that port', T30, async () => {
    const [port, appPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    const cfg = writeTempFile('config.json', spiralConfigText({ port, appPort, grpcPort }));
    const rr = writeTempFile('.rr.yaml', rrYaml({ appPort, grpcPort }));
    const r = await runSpindle(['checkconfig', '-c', cfg, '--app', rr]);
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);

    const app = await startGoapp({ port: appPort });
    let server;
    try {
      server = await startServer({}, { configText: spiralConfigText({ port, appPort, grpcPort }), port, apiKey: API_KEY });
      const { c } = await connectWith(server, 'json', { token: 'alice-token' });
      assert.equal((await rpc(c, 'whoami')).user, 'alice');
      // Channels without namespace go to the subscribe and publish proxies; goapp
      // opens only public:* and members:*, and refuses non-object publications.
      const s = c.newSubscription(uid('news'));
      const denied = waitEvent(s, 'unsubscribed');
      s.subscribe();
      assert.equal((await denied).code, 403, 'subscribe decided by the app');
      await c.publish(uid('news'), { text: 'x' });
      await assert.rejects(c.publish(uid('news'), 'not an object'), (e) => e.code === 400, 'publish decided by the app');
    } finally {
      closeClients();
      await server?.stop();
      await app.stop();
    }
  });

  test('checkconfig --app: proxy_address on another port → exit 1 naming the keys', T30, async () => {
    const [port, appPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    const cfg = writeTempFile('config.json', spiralConfigText({ port, appPort, grpcPort }));
    const rr = writeTempFile('.rr.yaml', rrYaml({ appPort: appPort + 1, grpcPort }));
    const r = await runSpindle(['checkconfig', '-c', cfg, '--app', rr]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 1, out);
    assert.match(out, /proxy_connect_endpoint/, out);
    assert.match(out, /proxy_address/, out);
  });

  test('checkconfig --app: grpc_api_address on another port → exit 1', T30, async () => {
    const [port, appPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    const cfg = writeTempFile('config.json', spiralConfigText({ port, appPort, grpcPort }));
    const rr = writeTempFile('.rr.yaml', rrYaml({ appPort, grpcPort: grpcPort + 1 }));
    const r = await runSpindle(['checkconfig', '-c', cfg, '--app', rr]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 1, out);
    assert.match(out, /grpc_api/, out);
  });
});

// ---------------------------------------------------------------------------
// Two app processes, each serving different events.

describe('two app processes serving different events', () => {
  let appA;
  let appB;
  before(async () => { [appA, appB] = await Promise.all([startGoapp(), startGoapp()]); }, HOOK);
  after(async () => { await appA?.stop(); await appB?.stop(); }, HOOK);

  test('flat keys: connect → app A over gRPC, rpc → app B over HTTP; both reached', T30, async () => {
    const server = await startServer({
      proxy_connect_endpoint: appA.grpc,
      proxy_rpc_endpoint: appB.http('rpc'),
    });
    try {
      const a0 = goappEvents(appA).length;
      const b0 = goappEvents(appB).length;
      for (const proto of PROTOCOLS) {
        const { c, ctx } = await connectWith(server, proto, { token: 'bob-token' });
        assert.deepEqual(await rpc(c, 'whoami'), { user: 'bob', client: ctx.client, transport: 'websocket' });
      }
      await until(() => goappEvents(appB).length - b0 >= 2, { what: 'app B logged the rpcs' });
      const a = goappEvents(appA).slice(a0);
      const b = goappEvents(appB).slice(b0);
      assert.deepEqual(a.map((e) => e.type), ['connect', 'connect'], `app A:\n${appA.tail()}`);
      assert.deepEqual(b.map((e) => `${e.type}/${e.user}`), ['rpc/bob', 'rpc/bob'], `app B:\n${appB.tail()}`);
    } finally {
      closeClients();
      await server.stop();
    }
  });

  test('granular mode: named proxies, rpc_namespaces route methods to different apps', T30, async () => {
    const server = await startServer({
      granular_proxy_mode: true,
      proxies: [
        { name: 'app-a', endpoint: appA.http('connect'), timeout: '3s' },
        { name: 'app-b', endpoint: appB.grpc, timeout: '3s' },
        { name: 'app-a-rpc', endpoint: appA.http('rpc'), timeout: '3s' },
      ],
      connect_proxy_name: 'app-a',
      rpc_proxy_name: 'app-b',
      rpc_namespaces: [{ name: 'aa', rpc_proxy_name: 'app-a-rpc' }, { name: 'local' }],
    });
    try {
      const a0 = goappEvents(appA).length;
      const b0 = goappEvents(appB).length;
      const { c } = await connectWith(server, 'json', { token: 'alice-token' });
      assert.equal((await rpc(c, 'whoami')).user, 'alice', 'method without namespace → rpc_proxy_name (app B)');
      // "aa:whoami" goes to app A, which knows no method of that name.
      await assert.rejects(c.rpc('aa:whoami', {}), (e) => e.code === 104);
      // An rpc namespace without a proxy → 108; an unknown rpc namespace → 104.
      await assert.rejects(c.rpc('local:x', {}), (e) => e.code === 108);
      await assert.rejects(c.rpc('nowhere:x', {}), (e) => e.code === 104);
      await until(() => goappEvents(appA).length - a0 >= 2, { what: 'app A logged connect and rpc' });
      assert.deepEqual(goappEvents(appA).slice(a0).map((e) => e.type), ['connect', 'rpc'], appA.tail());
      assert.deepEqual(goappEvents(appB).slice(b0).map((e) => e.type), ['rpc'], appB.tail());
    } finally {
      closeClients();
      await server.stop();
    }
  });
});
