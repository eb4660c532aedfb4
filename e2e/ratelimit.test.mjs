// The per-connection command rate limit (client.rate_limit.client_command,
// Centrifugo PRO's keys): the real SDK sends a burst of RPCs and publishes,
// the excess is refused with error 111 while another connection is served,
// a client that keeps going is disconnected 3013 (and reconnects), and the
// refusals are counted in /metrics. Buckets refill once a minute, so nothing
// here depends on timing.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import { T, startServer, newClient, connected, closeClients, collect, until, uid, signJWT, nowSec, traceOf } from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const token = () => signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET });
const perMinute = (rate) => ({ enabled: true, buckets: [{ interval: '60s', rate }] });

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    rpc_ping: true,
    allow_publish_for_client: true,
    client: {
      rate_limit: {
        client_command: {
          enabled: true,
          disconnect_after_refusals: 20,
          rpc: perMinute(5),
          publish: perMinute(3),
        },
      },
    },
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

/** Sends n calls at once; returns the outcomes: 'ok' or the error code. */
async function burst(n, call) {
  const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => call(i)));
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason?.code));
}

const count = (list, v) => list.filter((x) => x === v).length;

test('a burst of RPCs past the limit gets 111, another client is still served', T, async () => {
  const flood = newClient(server, 'json', { token: token() });
  const other = newClient(server, 'protobuf', { token: token() });
  await connected(flood);
  await connected(other);

  const got = await burst(12, () => flood.rpc('ping', {}));
  assert.equal(count(got, 'ok'), 5, `outcomes: ${got}`);
  assert.equal(count(got, 111), 7, `outcomes: ${got}`);

  assert.deepEqual(await burst(3, () => other.rpc('ping', {})), ['ok', 'ok', 'ok']);
  assert.equal(flood.state, 'connected', `refusals alone must not disconnect: ${traceOf(flood)}`);
});

test('publishes have their own bucket', T, async () => {
  const c = newClient(server, 'protobuf', { token: token() });
  await connected(c);
  const got = await burst(5, (i) => c.publish('news', { i }));
  assert.deepEqual(got.toSorted(), [111, 111, 'ok', 'ok', 'ok'], `outcomes: ${got}`);
  assert.equal(count(await burst(1, () => c.rpc('ping', {})), 'ok'), 1, 'the rpc bucket is untouched');
});

test('a client that ignores 111 is disconnected 3013 and reconnects', T, async () => {
  const c = newClient(server, 'json', { token: token() });
  const connecting = collect(c, 'connecting');
  await connected(c);
  await burst(30, () => c.rpc('ping', {}));
  await until(() => connecting.some((e) => e.code === 3013), { what: 'disconnect 3013' });
  assert.equal(connecting.find((e) => e.code === 3013).reason, 'too many requests');
  await until(() => c.state === 'connected', { what: `reconnected; trace ${traceOf(c)}` });
});

test('refusals are counted in /metrics', T, async () => {
  const body = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith('spindle_node_client_command_rate_limited_total{dry_run="false",method="rpc"}'));
  assert.ok(line, 'no rpc refusal series');
  assert.ok(Number(line.split(' ')[1]) >= 7, line);
});
