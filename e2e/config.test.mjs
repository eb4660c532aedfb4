// Configuration as users write it (spec §5, §5.7): the Spiral docs' style
// (flat keys, a // comment line, allowed_origins ["*"], grpc_api, the v2-era
// "publish" key), checkconfig on the typo'd proxy endpoint from those docs,
// env overrides, and the health/metrics endpoints.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fs from 'node:fs';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent,
  uid, signJWT, nowSec, dec, originWebSocket, freePort, writeTempFile, runSpindle,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

afterEach(() => closeClients());

/** The proxy block of the Spiral docs' config, with the refresh endpoint as given. */
function spiralProxyKeys(refreshEndpoint) {
  return `
  "proxy_publish": true,
  "proxy_subscribe": true,
  "proxy_connect": true,
  "proxy_connect_endpoint": "grpc://127.0.0.1:10001",
  "proxy_connect_timeout": "10s",
  "proxy_publish_endpoint": "grpc://127.0.0.1:10001",
  "proxy_publish_timeout": "10s",
  "proxy_subscribe_endpoint": "grpc://127.0.0.1:10001",
  "proxy_subscribe_timeout": "10s",
  "proxy_refresh_endpoint": "${refreshEndpoint}",
  "proxy_refresh_timeout": "10s",
  "proxy_rpc_endpoint": "grpc://127.0.0.1:10001",
  "proxy_rpc_timeout": "10s",`;
}

/** A Spiral-docs-style config body: comment line, flat keys, grpc_api on loopback. */
function spiralConfig({ port, grpcPort, proxyBlock = '' }) {
  return `{
  // ...
  "address": "127.0.0.1",
  "port": ${port},
  "health": true,
  "token_hmac_secret_key": "${SECRET}",
  "api_key": "${API_KEY}",
  "allowed_origins": [
    "*"
  ],
  "publish": true,${proxyBlock}
  "allow_subscribe_for_client": true,
  "grpc_api": true,
  "grpc_api_address": "127.0.0.1",
  "grpc_api_port": ${grpcPort}
}
`;
}

describe('Spiral-docs-style config without proxies', () => {
  let server;
  let grpcPort;
  let text;
  before(async () => {
    const port = await freePort();
    grpcPort = await freePort();
    text = spiralConfig({ port, grpcPort });
    server = await startServer({}, { configText: text, port, apiKey: API_KEY });
  });
  after(() => server?.stop());

  test('checkconfig accepts it (exit 0)', T, async () => {
    const r = await runSpindle(['checkconfig', '--config', server.configFile]);
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  });

  test('the gRPC API port listens', T, async () => {
    await new Promise((resolve, reject) => {
      const s = net.connect(grpcPort, '127.0.0.1');
      s.setTimeout(3000, () => { s.destroy(); reject(new Error('timeout connecting to grpc_api_port')); });
      s.on('connect', () => { s.end(); resolve(); });
      s.on('error', reject);
    });
  });

  for (const proto of PROTOCOLS) {
    test(`${proto}: browser-like client (any Origin) connects, subscribes without token, gets API publications`, T, async () => {
      const c = newClient(server, proto, {
        token: signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET }),
        websocket: originWebSocket('https://app.anywhere.example'),
      });
      await connected(c);
      const channel = uid('news');
      const [sub] = await subscribed(c, channel);
      const p = waitEvent(sub, 'publication');
      await server.apiOK('publish', { channel, data: { hello: 'spiral' } });
      assert.deepEqual(dec(proto, (await p).data), { hello: 'spiral' });
    });
  }
});

describe('Spiral docs config with the typo\'d refresh endpoint', () => {
  let file;
  before(async () => {
    file = writeTempFile('config.json', spiralConfig({
      port: await freePort(),
      grpcPort: await freePort(),
      proxyBlock: spiralProxyKeys('grpc://127.0.0.1c:10001'),
    }));
  });

  test('checkconfig exits 1 and names proxy_refresh_endpoint (and only it)', T, async () => {
    const r = await runSpindle(['checkconfig', '--config', file]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 1, `exit code; output:\n${out}`);
    assert.match(out, /proxy_refresh_endpoint/, `output must name the key:\n${out}`);
    for (const ok of ['proxy_connect_endpoint', 'proxy_publish_endpoint', 'proxy_subscribe_endpoint', 'proxy_rpc_endpoint']) {
      assert.doesNotMatch(out, new RegExp(ok), `valid key ${ok} must not be reported:\n${out}`);
    }
  });

  test('server refuses to start with it (non-zero exit, names the key)', T, async () => {
    const r = await runSpindle(['server', '--config', file], { timeout: 8000 });
    const out = r.stdout + r.stderr;
    assert.notEqual(r.signal, 'SIGKILL', `server kept running with an invalid config:\n${out}`);
    assert.notEqual(r.code, 0, out);
    assert.match(out, /proxy_refresh_endpoint/, out);
  });

  test('with the typo fixed, checkconfig accepts the full Spiral config', T, async () => {
    const fixed = writeTempFile('config.json', spiralConfig({
      port: await freePort(),
      grpcPort: await freePort(),
      proxyBlock: spiralProxyKeys('grpc://127.0.0.1:10001'),
    }));
    const r = await runSpindle(['checkconfig', '--config', fixed]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});

describe('environment overrides and service endpoints', () => {
  let server;
  before(async () => {
    server = await startServer({ api_key: 'from-file' }, { env: { CENTRIFUGO_API_KEY: API_KEY } });
  });
  after(() => server?.stop());

  test('CENTRIFUGO_API_KEY overrides api_key from the file', T, async () => {
    assert.equal((await server.api('info', {}, { key: API_KEY })).status, 200);
    assert.equal((await server.api('info', {}, { key: 'from-file' })).status, 401);
  });

  test('/health answers 200', T, async () => {
    const res = await fetch(`${server.httpUrl}/health`);
    assert.equal(res.status, 200);
    await res.text();
  });

  test('/metrics serves Prometheus text', T, async () => {
    const res = await fetch(`${server.httpUrl}/metrics`);
    const body = await res.text();
    assert.equal(res.status, 200);
    assert.match(body, /^# (HELP|TYPE) /m, body.slice(0, 300));
  });
});

describe('graceful shutdown', () => {
  for (const proto of PROTOCOLS) {
    test(`${proto}: SIGTERM closes clients with 3001 (SDK reconnects) and exits 0`, T, async () => {
      const server = await startServer({ token_hmac_secret_key: SECRET });
      try {
        const c = newClient(server, proto, { token: signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET }) });
        await connected(c);
        const reconnecting = waitEvent(c, 'connecting', { timeout: 5000, what: 'connecting after server shutdown' });
        const t0 = Date.now();
        server.child.kill('SIGTERM');
        const ctx = await reconnecting;
        assert.equal(ctx.code, 3001, `close code on shutdown: ${JSON.stringify(ctx)}`);
        const exit = await Promise.race([server.exitPromise, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
        assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM (${Date.now() - t0} ms); output:\n${server.tail()}`);
      } finally {
        closeClients();
        await server.stop();
      }
    });
  }
});

describe('restart on the same port', () => {
  for (const proto of PROTOCOLS) {
    test(`${proto}: SDK reconnects by itself; recovery reports recovered:false (new epoch)`, T, async () => {
      const port = await freePort();
      const cfg = {
        token_hmac_secret_key: SECRET,
        api_key: API_KEY,
        namespaces: [{ name: 'rec', allow_subscribe_for_client: true, history_size: 10, history_ttl: '60s', force_recovery: true }],
      };
      let server = await startServer(cfg, { port });
      try {
        const c = newClient(server, proto, { token: signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET }) });
        await connected(c);
        const channel = `rec:${uid('r')}`;
        const [sub, first] = await subscribed(c, channel);
        const p1 = waitEvent(sub, 'publication');
        await server.apiOK('publish', { channel, data: { gen: 1 } });
        await p1;
        const away = waitEvent(c, 'connecting');
        await server.stop();
        await away;
        const back = waitEvent(sub, 'subscribed', { timeout: 8000, filter: (ctx) => ctx.wasRecovering, what: 'resubscribe after restart' });
        server = await startServer(cfg, { port });
        const ctx = await back;
        assert.equal(ctx.recovered, false, JSON.stringify(ctx));
        assert.notEqual(ctx.streamPosition?.epoch, first.streamPosition?.epoch, 'a new memory engine means a new epoch');
        const p2 = waitEvent(sub, 'publication');
        await server.apiOK('publish', { channel, data: { gen: 2 } });
        const pub = await p2;
        assert.deepEqual(dec(proto, pub.data), { gen: 2 });
        assert.equal(pub.offset, 1);
      } finally {
        closeClients();
        await server.stop();
      }
    });
  }
});

// centrifuge-js's own test config (its centrifugo_test.json as the spec
// describes it, the mock backends' host names as 127.0.0.1), whole: the
// server starts with it, and the SDK's subscription kinds work on it.
describe("centrifuge-js's own test config", () => {
  let server;
  before(async () => {
    const port = await freePort();
    const cfg = JSON.parse(fs.readFileSync(new URL('../internal/config/testdata/centrifuge_js_test.json', import.meta.url), 'utf8'));
    // Where to listen and a health check are this harness's, not the SDK's.
    cfg.http_server = { address: '127.0.0.1', port };
    cfg.health = { enabled: true };
    server = await startServer({}, { configText: JSON.stringify(cfg), port, apiKey: 'test-api-key' });
  });
  after(() => server?.stop());

  test('checkconfig accepts it, and a map, a shared-poll and a stream subscription work', T, async () => {
    const r = await runSpindle(['checkconfig', '--config', server.configFile]);
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /client_publish_debounce_interval is a Centrifugo PRO option/);
    const c = newClient(server, 'json');
    await connected(c);
    const map = c.newMapSubscription(`streamless:${uid()}`);
    const poll = c.newSharedPollSubscription(`poll:${uid()}`);
    const stream = c.newSubscription(`recovery:${uid()}`);
    await Promise.all([map, poll, stream].map((s) => { const p = waitEvent(s, 'subscribed'); s.subscribe(); return p; }));
    await map.publish('k', { v: 1 });
    const st = await server.apiOK('map_read_state', { channel: map.channel });
    assert.deepEqual(st.entries.map((e) => e.key), ['k']);
  });
});
