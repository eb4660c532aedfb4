// Reload and shutdown as operators drive them (issue 11, production.md §6):
// SIGHUP re-reads the config file and applies what Centrifugo applies at
// run time, logging each changed key and those that need a restart; SIGTERM
// drains (clients get 3001 and come back when the server does), a drain
// that outlasts shutdown_timeout exits non-zero, and on Redis the other
// node drops the one that left from `info` at once.

import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';

import {
  PROTOCOLS, T, startServer, newClient, connected, closeClients, waitEvent,
  uid, signJWT, nowSec, until, freePort, traceOf,
} from './helpers.mjs';
import { T30, startRedis } from './procs.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

afterEach(() => closeClients());

const token = (key, user = uid('u')) => signJWT({ sub: user, exp: nowSec(3600) }, { key });

/** Rewrites the server's config file with `change` merged over what it holds. */
function rewriteConfig(server, change) {
  const cfg = JSON.parse(fs.readFileSync(server.configFile, 'utf8'));
  fs.writeFileSync(server.configFile, JSON.stringify({ ...cfg, ...change }, null, 2));
}

/** Sends SIGHUP and waits for the log line that ends the reload. */
async function reload(server, endsWith = /config reloaded|config reload failed/) {
  const before = server.output.join('').length;
  server.child.kill('SIGHUP');
  await until(() => endsWith.test(server.output.join('').slice(before)), { timeout: 5000, what: `reload log (${endsWith})` })
    .catch((e) => { throw new Error(`${e.message}\n${server.tail()}`); });
  return server.output.join('').slice(before);
}

/** Resolves to the disconnect code when the client ends terminally. */
async function refusedCode(c) {
  const p = waitEvent(c, 'disconnected', { what: 'terminal disconnect' });
  c.connect();
  const ctx = await p.catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
  return ctx.code;
}

describe('SIGHUP reload', () => {
  for (const proto of PROTOCOLS) {
    test(`${proto}: a rotated token secret applies without a restart`, T, async () => {
      const server = await startServer({ token_hmac_secret_key: SECRET });
      try {
        const pid = server.child.pid;
        const before = newClient(server, proto, { token: token(SECRET) });
        await connected(before);
        const NEW = 'e2e-rotated-' + uid();
        rewriteConfig(server, { token_hmac_secret_key: NEW });
        const log = await reload(server);
        assert.match(log, /config reload: applied.*key=token_hmac_secret_key/, log);
        assert.ok(!log.includes(NEW), 'the reload log must not show the secret');
        assert.equal(await refusedCode(newClient(server, proto, { token: token(SECRET) })), 3500, 'old secret refused');
        await connected(newClient(server, proto, { token: token(NEW) }));
        assert.equal(before.state, 'connected', 'connections made before the reload stay');
        assert.equal(server.child.pid, pid);
        assert.equal(server.exited, null, 'no restart');
      } finally {
        await server.stop();
      }
    });
  }

  test('an invalid config is logged and the old one stays', T, async () => {
    const server = await startServer({ token_hmac_secret_key: SECRET });
    try {
      rewriteConfig(server, { token_hmac_secret_key: 'other-' + uid(), client_channel_limit: 'many' });
      const log = await reload(server);
      assert.match(log, /config reload failed: keeping the configuration in force/, log);
      assert.match(log, /client_channel_limit/, 'the error names the key');
      await connected(newClient(server, 'json', { token: token(SECRET) }));
      fs.writeFileSync(server.configFile, '{ not json');
      assert.match(await reload(server), /config reload failed/);
      await connected(newClient(server, 'json', { token: token(SECRET) }));
    } finally {
      await server.stop();
    }
  });

  test('a changed port is reported as needing a restart and the listener stays', T, async () => {
    const server = await startServer({ token_hmac_secret_key: SECRET });
    try {
      const other = await freePort();
      rewriteConfig(server, { port: other });
      const log = await reload(server);
      assert.match(log, /needs a restart to take effect.*key=port/, log);
      const res = await fetch(`${server.httpUrl}/health`, { signal: AbortSignal.timeout(2000) });
      assert.equal(res.status, 200);
      await assert.rejects(fetch(`http://127.0.0.1:${other}/health`, { signal: AbortSignal.timeout(2000) }));
    } finally {
      await server.stop();
    }
  });
});

describe('SIGTERM', () => {
  for (const proto of PROTOCOLS) {
    test(`${proto}: clients get 3001 and reconnect when the server is back`, T, async () => {
      const port = await freePort();
      const cfg = { token_hmac_secret_key: SECRET };
      let server = await startServer(cfg, { port });
      try {
        const c = newClient(server, proto, { token: token(SECRET) });
        await connected(c);
        const away = waitEvent(c, 'connecting', { what: 'connecting after SIGTERM' });
        server.child.kill('SIGTERM');
        assert.equal((await away).code, 3001);
        assert.deepEqual(await server.exitPromise, { code: 0, signal: null }, server.tail());
        await server.stop();
        const back = waitEvent(c, 'connected', { timeout: 8000, what: 'reconnected to the restarted server' });
        server = await startServer(cfg, { port });
        await back;
      } finally {
        await server.stop();
      }
    });
  }

  test('a drain that outlasts shutdown_timeout exits non-zero and says so', T, async () => {
    const server = await startServer({ api_key: API_KEY, shutdown_timeout: '1s' });
    const sock = net.connect(server.port, '127.0.0.1');
    try {
      // An API client that sends its body slowly holds the HTTP drain
      // until the 30 s read timeout, far past shutdown_timeout.
      await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
      sock.write(`POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"chan`);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      server.child.kill('SIGTERM');
      const exit = await Promise.race([server.exitPromise, new Promise((r) => setTimeout(() => r('still running'), 8000))]);
      assert.notEqual(exit, 'still running', server.tail());
      assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)} after ${Date.now() - t0} ms\n${server.tail()}`);
      assert.match(server.tail(), /shutdown timeout reached/);
    } finally {
      sock.destroy();
      await server.stop();
    }
  });

  test('on Redis, the other node drops the one that left from info at once', T30, async () => {
    const redis = await startRedis();
    const cfg = { api_key: API_KEY, engine: 'redis', redis_address: redis.address };
    const [a, b] = await Promise.all([startServer(cfg), startServer(cfg)]);
    try {
      const nodes = async () => (await a.apiOK('info', {})).nodes.length;
      await until(async () => (await nodes()) === 2, { timeout: 10000, interval: 100, what: 'info lists both nodes' });
      b.child.kill('SIGTERM');
      await b.exitPromise;
      // Without the leave message the entry lives for three announcement
      // intervals (9 s); with it, it is gone as soon as the message lands.
      await until(async () => (await nodes()) === 1, { timeout: 1000, interval: 50, what: 'info drops the node that shut down' });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await redis.kill();
    }
  });
});
