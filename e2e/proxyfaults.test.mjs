// Proxy faults with real processes (spec §2.4: a transport error is client
// error 100, temporary): the app down when the server starts, the app killed
// and restarted on the same port, an app slower than the proxy timeout, and
// an app answering something that is no valid answer. Each time other
// clients keep being served.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import grpc from '@grpc/grpc-js';

import {
  PROTOCOLS, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, dec, enc, traceOf, freePort, signJWT, nowSec, until,
} from './helpers.mjs';
import { ensureGoapp, T30, HOOK, startGoapp, startScriptedApp } from './procs.mjs';

const TRANSPORTS = ['grpc', 'http'];
const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

await ensureGoapp();
afterEach(() => closeClients());

const goappEndpoint = (port, transport, event) => (transport === 'grpc' ? `grpc://127.0.0.1:${port}` : `http://127.0.0.1:${port}/${event}`);

/** Asserts `p` rejects with the proxy transport error: code 100, temporary. */
async function rejects100(p, what) {
  await assert.rejects(p, (e) => {
    assert.equal(e.code, 100, `${what}: ${JSON.stringify(e)}`);
    assert.equal(e.temporary, true, `${what}: error 100 must be temporary: ${JSON.stringify(e)}`);
    return true;
  });
}

/** True when an SDK 'error' ctx is a temporary connect error 100. */
const isConnect100 = (ctx) => ctx.type === 'connect' && ctx.error?.code === 100 && ctx.error?.temporary === true;

async function rpc(c, method, data = {}) {
  const res = await c.rpc(method, enc(c.__proto, data));
  return dec(c.__proto, res.data);
}

for (const transport of TRANSPORTS) {
  describe(`${transport} proxy: goapp down or killed`, () => {
    test('app down at start: connect gets temporary 100, the SDK keeps retrying and connects once the app starts', T30, async () => {
      const port = await freePort();
      const server = await startServer({
        proxy_connect_endpoint: goappEndpoint(port, transport, 'connect'),
        proxy_connect_timeout: '2s',
        proxy_rpc_endpoint: goappEndpoint(port, transport, 'rpc'),
      });
      let app;
      try {
        const clients = PROTOCOLS.map((proto) => {
          const c = newClient(server, proto, { data: enc(proto, { token: 'alice-token' }) });
          c.__errors = collect(c, 'error');
          c.connect();
          return c;
        });
        for (const c of clients) {
          await until(() => c.__errors.filter(isConnect100).length >= 2, { timeout: 8000, what: `two temporary connect errors; trace: ${traceOf(c)}` });
          assert.equal(c.state, 'connecting', `still trying: ${traceOf(c)}`);
          assert.ok(c.__errors.every(isConnect100), JSON.stringify(c.__errors));
        }
        const t0 = Date.now();
        app = await startGoapp({ port });
        for (const c of clients) {
          await until(() => c.state === 'connected', { timeout: 15000, what: `connect after the app started; trace: ${traceOf(c)}` });
          assert.equal((await rpc(c, 'whoami')).user, 'alice');
        }
        const recovery = Date.now() - t0;
        if (process.env.E2E_DEBUG) console.error(`${transport}: connected ${recovery} ms after the app started`);
        assert.ok(recovery < 10000, `connected ${recovery} ms after the app started`);
      } finally {
        closeClients();
        await server.stop();
        await app?.stop();
      }
    });

    test('app killed mid-test: calls fail with temporary 100, other clients unaffected, recovery on restart', T30, async () => {
      const port = await freePort();
      let app = await startGoapp({ port });
      const ep = (e) => goappEndpoint(port, transport, e);
      const server = await startServer({
        api_key: API_KEY,
        token_hmac_secret_key: SECRET,
        proxy_connect_endpoint: ep('connect'),
        proxy_connect_timeout: '2s',
        proxy_rpc_endpoint: ep('rpc'),
        proxy_rpc_timeout: '2s',
        proxy_publish_endpoint: ep('publish'),
        proxy_publish_timeout: '2s',
        namespaces: [{ name: 'public', allow_subscribe_for_client: true, proxy_publish: true }],
      });
      try {
        const channel = `public:${uid('room')}`;
        // Proxy-connected clients, and JWT clients that never touch the app.
        const viaApp = [];
        const viaJWT = [];
        for (const proto of PROTOCOLS) {
          const a = newClient(server, proto, { data: enc(proto, { token: 'alice-token' }) });
          await connected(a);
          const [subA] = await subscribed(a, channel);
          viaApp.push({ c: a, sub: subA, proto });
          const j = newClient(server, proto, { token: signJWT({ sub: uid('jwt'), exp: nowSec(3600) }, { key: SECRET }) });
          await connected(j);
          const [subJ] = await subscribed(j, channel);
          viaJWT.push({ c: j, sub: subJ, proto });
          assert.equal((await rpc(a, 'whoami')).user, 'alice');
        }

        await app.kill();

        for (const { c, proto } of viaApp) {
          await rejects100(c.rpc('whoami', enc(proto, {})), `${proto} rpc with the app down`);
          await rejects100(c.publish(channel, enc(proto, { text: 'x' })), `${proto} publish with the app down`);
        }
        // A new proxied connect fails temporarily and keeps being retried.
        const late = newClient(server, 'json', { data: { token: 'bob-token' } });
        const lateErrors = collect(late, 'error');
        late.connect();
        await until(() => lateErrors.some(isConnect100), { timeout: 8000, what: `connect error 100; trace: ${traceOf(late)}` });

        // Everyone connected stays connected and keeps receiving.
        const marker = uid('m');
        const everyone = [...viaApp, ...viaJWT];
        const arrivals = everyone.map(({ sub, proto }) => waitEvent(sub, 'publication', {
          filter: (x) => dec(proto, x.data).marker === marker, what: `${proto} publication while the app is down`,
        }));
        await server.apiOK('publish', { channel, data: { marker } });
        await Promise.all(arrivals);
        for (const { c } of everyone) assert.equal(c.state, 'connected', traceOf(c));

        const t0 = Date.now();
        app = await startGoapp({ port });
        for (const { c } of viaApp) {
          await until(async () => {
            try { return (await rpc(c, 'whoami')).user === 'alice'; } catch { return false; }
          }, { timeout: 15000, interval: 200, what: 'rpc works again after the app restarted' });
        }
        await until(() => late.state === 'connected', { timeout: 15000, what: `queued connect after restart; trace: ${traceOf(late)}` });
        assert.equal((await rpc(late, 'whoami')).user, 'bob');
        const recovery = Date.now() - t0;
        if (process.env.E2E_DEBUG) console.error(`${transport}: recovered ${recovery} ms after restart`);
        assert.ok(recovery < 10000, `recovered ${recovery} ms after restart`);
        // Publish through the app works again and reaches the JWT clients.
        const p = waitEvent(viaJWT[0].sub, 'publication', { filter: (x) => dec(viaJWT[0].proto, x.data).from === 'alice' });
        await viaApp[0].c.publish(channel, enc(viaApp[0].proto, { text: 'back' }));
        assert.equal(dec(viaJWT[0].proto, (await p).data).text, 'back');
      } finally {
        closeClients();
        await server.stop();
        await app.stop();
      }
    });
  });
}

// ---------------------------------------------------------------------------
// A scripted app misbehaving on purpose.

/** rpc methods select the misbehaviour; connect obeys `mode.connect`. */
function faultyHandler(mode) {
  return async (event, req, { transport }) => {
    if (event === 'connect') {
      if (mode.connect === 'garbage') return transport === 'http' ? { __http: { status: 200, body: 'not json at all' } } : { __grpcGarbage: true };
      return { result: { user: req.data?.user || 'anon' } };
    }
    if (event !== 'rpc') return {};
    switch (req.method) {
      case 'slow':
        await sleep(1500);
        return { result: { data: { late: true } } };
      case 'http500':
        return transport === 'http' ? { __http: { status: 500, body: '{"result":{"data":{"x":1}}}' } } : { __grpcStatus: grpc.status.INTERNAL };
      case 'garbage':
        return transport === 'http' ? { __http: { status: 200, body: '{"result": {"data": tru' } } : { __grpcGarbage: true };
      case 'wrongshape':
        return transport === 'http' ? { __http: { status: 200, body: '[1,2,3]' } } : { __grpcGarbage: true };
      case 'drop':
        return transport === 'http' ? { __drop: true } : { __grpcStatus: grpc.status.UNAVAILABLE };
      default:
        return { result: { data: { ok: req.method, user: req.user } } };
    }
  };
}

for (const transport of TRANSPORTS) {
  describe(`${transport} proxy: slow and broken app answers`, () => {
    let app;
    let server;
    const mode = {};
    before(async () => {
      app = await startScriptedApp(faultyHandler(mode));
      server = await startServer({
        proxy_connect_endpoint: app.endpoint(transport, 'connect'),
        proxy_connect_timeout: '500ms',
        proxy_rpc_endpoint: app.endpoint(transport, 'rpc'),
        proxy_rpc_timeout: '500ms',
      });
    }, HOOK);
    after(async () => { await server?.stop(); await app?.close(); }, HOOK);

    test('app slower than proxy_rpc_timeout → 100 temporary at the timeout; a fast call meanwhile is answered', T30, async () => {
      await Promise.all(PROTOCOLS.map(async (proto) => {
        const slowC = newClient(server, proto, { data: enc(proto, { user: 'slow' }) });
        const fastC = newClient(server, proto, { data: enc(proto, { user: 'fast' }) });
        await connected(slowC);
        await connected(fastC);
        const t0 = Date.now();
        const slow = rejects100(slowC.rpc('slow', enc(proto, {})), `${proto} slow rpc`).then(() => Date.now() - t0);
        await sleep(100);
        const f0 = Date.now();
        assert.deepEqual(await rpc(fastC, 'fast'), { ok: 'fast', user: 'fast' });
        const fastTook = Date.now() - f0;
        const slowTook = await slow;
        assert.ok(slowTook >= 400 && slowTook < 1400, `slow rpc failed after ${slowTook} ms (timeout 500 ms, app needs 1500 ms)`);
        assert.ok(fastTook < 400, `fast rpc took ${fastTook} ms while the slow one was pending`);
        assert.equal(slowC.state, 'connected', `a proxy timeout does not disconnect: ${traceOf(slowC)}`);
        assert.deepEqual(await rpc(slowC, 'again'), { ok: 'again', user: 'slow' });
      }));
    });

    const broken = transport === 'http'
      ? [['http500', 'HTTP 500'], ['garbage', 'truncated JSON body'], ['wrongshape', 'JSON that is no response object'], ['drop', 'connection closed without answer']]
      : [['http500', 'status INTERNAL'], ['garbage', 'bytes that are no protobuf message'], ['drop', 'status UNAVAILABLE']];
    for (const [method, what] of broken) {
      test(`rpc answered with ${what} → 100 temporary; the server keeps serving others`, T30, async () => {
        await Promise.all(PROTOCOLS.map(async (proto) => {
          const bad = newClient(server, proto, { data: enc(proto, { user: 'bad' }) });
          const good = newClient(server, proto, { data: enc(proto, { user: 'good' }) });
          await connected(bad);
          await connected(good);
          await Promise.all([
            rejects100(bad.rpc(method, enc(proto, {})), `${proto} rpc ${method}`),
            rpc(good, 'fine').then((r) => assert.deepEqual(r, { ok: 'fine', user: 'good' })),
          ]);
          assert.equal(bad.state, 'connected', traceOf(bad));
          assert.deepEqual(await rpc(bad, 'fine'), { ok: 'fine', user: 'bad' }, 'the same client is served right after');
        }));
        assert.equal(server.exited, null, 'server still running');
      });
    }

    test('connect answered with garbage → temporary 100 and retries; connects once the app answers properly', T30, async () => {
      mode.connect = 'garbage';
      let clients;
      try {
        clients = await Promise.all(PROTOCOLS.map(async (proto) => {
          const c = newClient(server, proto, { data: enc(proto, { user: 'later' }) });
          const errors = collect(c, 'error');
          c.connect();
          await until(() => errors.filter(isConnect100).length >= 2, { timeout: 8000, what: `two connect errors 100; trace: ${traceOf(c)}` });
          assert.ok(errors.every(isConnect100), JSON.stringify(errors));
          assert.equal(c.state, 'connecting', traceOf(c));
          return c;
        }));
      } finally {
        mode.connect = undefined;
      }
      for (const c of clients) {
        await until(() => c.state === 'connected', { timeout: 8000, what: `connect once the app answers; trace: ${traceOf(c)}` });
        assert.equal((await rpc(c, 'who')).user, 'later');
      }
    });
  });
}
