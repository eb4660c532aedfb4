// Publish/subscribe through the SDK and the HTTP server API (spec §1.9, §3.3,
// §5.3): client publish fan-out, API publish fan-out, the permission model for
// client publish, and the API's authentication and error shapes.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, enc, dec, until,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

const token = (user) => signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    allow_subscribe_for_client: true,
    namespaces: [
      { name: 'pub', allow_subscribe_for_client: true, allow_publish_for_subscriber: true, presence: true },
      { name: 'ro', allow_subscribe_for_client: true },
      { name: 'anypub', allow_subscribe_for_client: true, allow_publish_for_client: true },
      { name: 'hist', allow_subscribe_for_client: true, history_size: 10, history_ttl: '60s' },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

/** Two connected users subscribed to `channel`; returns their subs and publication logs. */
async function twoSubscribers(proto, channel) {
  const a = newClient(server, proto, { token: token(uid('alice')) });
  const b = newClient(server, proto, { token: token(uid('bob')) });
  await Promise.all([connected(a), connected(b)]);
  const [[subA], [subB]] = await Promise.all([subscribed(a, channel), subscribed(b, channel)]);
  return { a, b, subA, subB, gotA: collect(subA, 'publication'), gotB: collect(subB, 'publication') };
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: client publish`, () => {
    test('publish by a subscriber (allow_publish_for_subscriber) reaches both subscribers with publisher info', T, async () => {
      const channel = `pub:${uid('room')}`;
      const aliceUser = uid('alice');
      const a = newClient(server, proto, { token: token(aliceUser) });
      const b = newClient(server, proto, { token: token(uid('bob')) });
      const [connA] = await Promise.all([connected(a), connected(b)]);
      const [[subA], [subB]] = await Promise.all([subscribed(a, channel), subscribed(b, channel)]);
      const pA = waitEvent(subA, 'publication', { what: 'alice gets own publication' });
      const pB = waitEvent(subB, 'publication', { what: 'bob gets alice publication' });
      const payload = { text: 'hello', n: 1, nested: { ok: true } };
      const res = await subA.publish(enc(proto, payload));
      assert.ok(res !== undefined, 'publish must resolve with a result object');
      const [ctxA, ctxB] = await Promise.all([pA, pB]);
      for (const ctx of [ctxA, ctxB]) {
        assert.equal(ctx.channel, channel);
        assert.deepEqual(dec(proto, ctx.data), payload);
        assert.ok(ctx.info, `client publications carry publisher info: ${JSON.stringify(ctx)}`);
        assert.equal(ctx.info.user, aliceUser);
        assert.equal(ctx.info.client, connA.client);
      }
    });

    test('many publications arrive at the other subscriber exactly once, in order', T, async () => {
      const channel = `pub:${uid('burst')}`;
      const { subA, gotB } = await twoSubscribers(proto, channel);
      const N = 50;
      await Promise.all(Array.from({ length: N }, (_, i) => subA.publish(enc(proto, { i }))));
      await until(() => gotB.length >= N, { what: `${N} publications at bob (got ${gotB.length})` });
      await sleep(200);
      const seen = gotB.map((p) => dec(proto, p.data).i);
      assert.equal(seen.length, N, `duplicates? ${JSON.stringify(seen)}`);
      assert.deepEqual([...seen].sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i));
    });

    test('publish to a channel the client is not subscribed to (subscriber-only namespace) → 103', T, async () => {
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      await assert.rejects(c.publish(`pub:${uid('x')}`, enc(proto, { a: 1 })), (e) => e.code === 103);
    });

    test('publish where only subscribe is allowed → 103', T, async () => {
      const channel = `ro:${uid('x')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const [sub] = await subscribed(c, channel);
      await assert.rejects(sub.publish(enc(proto, { a: 1 })), (e) => e.code === 103);
      assert.equal(c.state, 'connected', 'a permission error must not drop the connection');
    });

    test('allow_publish_for_client lets a non-subscriber publish', T, async () => {
      const channel = `anypub:${uid('x')}`;
      const sender = newClient(server, proto, { token: token(uid('s')) });
      const rcv = newClient(server, proto, { token: token(uid('r')) });
      await Promise.all([connected(sender), connected(rcv)]);
      const [sub] = await subscribed(rcv, channel);
      const p = waitEvent(sub, 'publication');
      await sender.publish(channel, enc(proto, { via: 'client' }));
      assert.deepEqual(dec(proto, (await p).data), { via: 'client' });
    });

    test('subscribe to an unknown namespace → unsubscribed with 102', T, async () => {
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(`nosuchns:${uid('x')}`);
      const p = waitEvent(sub, 'unsubscribed');
      sub.subscribe();
      const ctx = await p;
      assert.equal(ctx.code, 102, JSON.stringify(ctx));
    });

    test('subscribe to a private ($) channel without a token → unsubscribed with 103', T, async () => {
      // "pub" allows subscribe for clients; the private prefix must still require a token.
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(`$pub:${uid('x')}`);
      const p = waitEvent(sub, 'unsubscribed');
      sub.subscribe();
      const ctx = await p;
      assert.equal(ctx.code, 103, JSON.stringify(ctx));
    });
  });

  describe(`${proto}: API publish`, () => {
    test('POST /api/publish with X-API-Key reaches every subscriber', T, async () => {
      const channel = `pub:${uid('api')}`;
      const { subA, subB } = await twoSubscribers(proto, channel);
      const pA = waitEvent(subA, 'publication');
      const pB = waitEvent(subB, 'publication');
      const data = { from: 'api', list: [1, 2, 3], s: 'línea "quoted"\nnewline' };
      const r = await server.api('publish', { channel, data });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json && r.json.result !== undefined && !r.json.error, `body: ${r.text}`);
      for (const ctx of await Promise.all([pA, pB])) {
        assert.deepEqual(dec(proto, ctx.data), data);
        assert.equal(ctx.info, undefined, 'API publications carry no client info');
      }
    });

    test('API publish into a channel with history returns offset/epoch and subscribers see offsets', T, async () => {
      const channel = `hist:${uid('api')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const [sub] = await subscribed(c, channel);
      const got = collect(sub, 'publication');
      const r1 = await server.apiOK('publish', { channel, data: { n: 1 } });
      const r2 = await server.apiOK('publish', { channel, data: { n: 2 } });
      assert.equal(r1.offset, 1, JSON.stringify(r1));
      assert.equal(r2.offset, 2, JSON.stringify(r2));
      assert.ok(typeof r1.epoch === 'string' && r1.epoch.length > 0, JSON.stringify(r1));
      assert.equal(r1.epoch, r2.epoch);
      await until(() => got.length >= 2);
      assert.deepEqual(got.map((p) => p.offset), [1, 2]);
    });

    test('broadcast reaches subscribers of several channels', T, async () => {
      const ch1 = `pub:${uid('b1')}`;
      const ch2 = `pub:${uid('b2')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const [[s1], [s2]] = await Promise.all([subscribed(c, ch1), subscribed(c, ch2)]);
      const p1 = waitEvent(s1, 'publication');
      const p2 = waitEvent(s2, 'publication');
      const r = await server.api('broadcast', { channels: [ch1, ch2], data: { b: true } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json?.result?.responses?.length, 2, r.text);
      assert.deepEqual(dec(proto, (await p1).data), { b: true });
      assert.deepEqual(dec(proto, (await p2).data), { b: true });
    });
  });
}

describe('HTTP API authentication and errors', () => {
  test('no API key → 401 with the API error unauthorized (Centrifugo sends an empty body)', T, async () => {
    const r = await server.api('publish', { channel: 'x', data: {} }, { key: null });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { error: { code: 101, message: 'unauthorized' } });
  });
  test('wrong API key → 401', T, async () => {
    const r = await server.api('publish', { channel: 'x', data: {} }, { key: 'wrong' });
    assert.equal(r.status, 401);
  });
  test('Authorization: apikey <KEY> is accepted', T, async () => {
    const r = await server.api('publish', { channel: uid('x'), data: {} }, { key: null, headers: { Authorization: `apikey ${API_KEY}` } });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.json?.error, r.text);
  });
  test('?api_key=<KEY> is accepted', T, async () => {
    const r = await server.api('publish', { channel: uid('x'), data: {} }, { key: null, query: `?api_key=${API_KEY}` });
    assert.equal(r.status, 200, r.text);
  });
  test('GET on an API method → 405', T, async () => {
    const r = await server.api('publish', undefined, { httpMethod: 'GET' });
    assert.equal(r.status, 405);
  });
  test('unknown namespace → HTTP 200 with error 102', T, async () => {
    const r = await server.api('publish', { channel: 'nosuchns:x', data: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json?.error?.code, 102, r.text);
  });
  test('empty channel → error 107', T, async () => {
    const r = await server.api('publish', { channel: '', data: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json?.error?.code, 107, r.text);
  });
  test('invalid JSON body → 400', T, async () => {
    const r = await server.api('publish', undefined, { raw: '{"channel": ' });
    assert.equal(r.status, 400, r.text);
  });
  test('batch runs commands in order and reports per-command errors', T, async () => {
    const r = await server.api('batch', { commands: [
      { publish: { channel: uid('ok'), data: { a: 1 } } },
      { publish: { channel: 'nosuchns:x', data: { a: 1 } } },
    ] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json?.replies?.length, 2, r.text);
    assert.ok(r.json.replies[0].publish !== undefined && !r.json.replies[0].error, r.text);
    assert.equal(r.json.replies[1].error?.code, 102, r.text);
  });
  test('info lists this node', T, async () => {
    const r = await server.apiOK('info', {});
    assert.ok(Array.isArray(r.nodes) && r.nodes.length === 1, JSON.stringify(r));
    assert.ok(r.nodes[0].uid, JSON.stringify(r));
  });
  test('empty API results keep the always-present fields (as Centrifugo\'s API JSON does)', T, async () => {
    // Centrifugo strips omitempty from these fields (apiproto generate_tags.sh),
    // so HTTP API clients may index them without a presence check.
    const channel = `hist:${uid('empty')}`;
    const checks = [
      ['history', { channel, limit: 10 }, ['publications', 'epoch', 'offset']],
      ['presence', { channel: `pub:${uid('nobody')}` }, ['presence']],
      ['presence_stats', { channel: `pub:${uid('nobody')}` }, ['num_clients', 'num_users']],
      ['channels', { pattern: `${uid('none')}*` }, ['channels']],
    ];
    const missing = [];
    for (const [method, body, keys] of checks) {
      const r = await server.api(method, body);
      if (r.json?.error) { missing.push(`${method}: error ${JSON.stringify(r.json.error)}`); continue; }
      for (const k of keys) if (!(k in (r.json?.result ?? {}))) missing.push(`${method}.${k} (got ${r.text})`);
    }
    const node = (await server.apiOK('info', {})).nodes[0];
    for (const k of ['uid', 'name', 'version', 'num_clients', 'num_users', 'num_channels', 'num_subs']) {
      if (!(k in node)) missing.push(`info.nodes[0].${k} (got ${JSON.stringify(node)})`);
    }
    assert.deepEqual(missing, []);
  });

  test('X-Centrifugo-Error-Mode: transport maps 102 to HTTP 404', T, async () => {
    const r = await server.api('publish', { channel: 'nosuchns:x', data: {} }, { headers: { 'X-Centrifugo-Error-Mode': 'transport' } });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.json?.code, 102, r.text);
  });
});
