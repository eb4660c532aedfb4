// History and recovery (spec §1.9): history reads with limit / reverse /
// since through the SDK, and recovery after the transport really drops
// (TCP reset through a relay, no close frame) while publications continue.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, dec, until, startRelay, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();
const HISTORY_SIZE = 10;

let server;
let relay;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    namespaces: [
      { name: 'hist', allow_subscribe_for_client: true, allow_history_for_subscriber: true, history_size: HISTORY_SIZE, history_ttl: '300s' },
      { name: 'nohist', allow_subscribe_for_client: true, allow_history_for_client: true },
      { name: 'rec', allow_subscribe_for_client: true, history_size: 1000, history_ttl: '300s', force_recovery: true },
      { name: 'small', allow_subscribe_for_client: true, history_size: 3, history_ttl: '300s', force_recovery: true },
    ],
  });
  relay = await startRelay(server.port);
});
after(async () => { await relay?.close(); await server?.stop(); });
afterEach(() => closeClients());

const token = (user) => signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });

async function publishN(channel, from, n) {
  const out = [];
  for (let i = from; i < from + n; i++) out.push(await server.apiOK('publish', { channel, data: { i } }));
  return out;
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: history`, () => {
    test('sub.history: limit, trimming to history_size, epoch/offset, reverse, since', T, async () => {
      const channel = `hist:${uid('h')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const [sub] = await subscribed(c, channel);
      const results = await publishN(channel, 1, 15);
      const epoch = results[0].epoch;
      assert.ok(epoch, `publish result must carry the epoch: ${JSON.stringify(results[0])}`);
      assert.deepEqual(results.map((r) => r.offset), Array.from({ length: 15 }, (_, i) => i + 1));

      const h = await sub.history({ limit: 10 });
      assert.equal(h.epoch, epoch);
      assert.equal(h.offset, 15);
      assert.deepEqual(h.publications.map((p) => p.offset), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 'oldest first, trimmed to history_size');
      assert.deepEqual(h.publications.map((p) => dec(proto, p.data).i), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

      const top = await sub.history({ limit: 0 });
      assert.equal(top.publications.length, 0, 'limit 0 returns only the stream position');
      assert.equal(top.offset, 15);
      assert.equal(top.epoch, epoch);

      const all = await sub.history({ limit: -1 });
      assert.equal(all.publications.length, HISTORY_SIZE);

      const rev = await sub.history({ limit: 3, reverse: true });
      assert.deepEqual(rev.publications.map((p) => p.offset), [15, 14, 13]);

      const since = await sub.history({ limit: 10, since: { offset: 12, epoch } });
      assert.deepEqual(since.publications.map((p) => p.offset), [13, 14, 15]);

      await assert.rejects(sub.history({ limit: 10, since: { offset: 12, epoch: 'not-the-epoch' } }), (e) => e.code === 112);
    });

    test('history by a non-subscriber (allow_history_for_subscriber) → 103', T, async () => {
      const channel = `hist:${uid('h')}`;
      await publishN(channel, 1, 1);
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      await assert.rejects(c.history(channel, { limit: 10 }), (e) => e.code === 103);
    });

    test('history where the namespace keeps none → 108', T, async () => {
      const channel = `nohist:${uid('h')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      await assert.rejects(c.history(channel, { limit: 10 }), (e) => e.code === 108);
    });

    test('API history matches what was published', T, async () => {
      const channel = `hist:${uid('h')}`;
      await publishN(channel, 1, 4);
      const h = await server.apiOK('history', { channel, limit: 2, reverse: true });
      assert.deepEqual(h.publications.map((p) => p.offset), [4, 3], JSON.stringify(h));
      assert.deepEqual(h.publications.map((p) => p.data), [{ i: 4 }, { i: 3 }]);
      assert.equal(h.offset, 4);
    });
  });

  describe(`${proto}: subscribing while publications flow`, () => {
    test('positioned subscribe mid-stream: live offsets continue from the reply offset with no gap or duplicate', T, async () => {
      const channel = `rec:${uid('flow')}`;
      await publishN(channel, 1, 5);
      let stop = false;
      let sent = 5;
      const flood = (async () => {
        while (!stop && sent < 400) { sent++; await server.apiOK('publish', { channel, data: { i: sent } }); }
      })();
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(channel);
      const got = collect(sub, 'publication');
      const p = waitEvent(sub, 'subscribed');
      sub.subscribe();
      const ctx = await p;
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await flood;
      const start = ctx.streamPosition.offset;
      await until(() => (got.at(-1)?.offset ?? start) >= sent, { what: `offsets up to ${sent} (have ${got.at(-1)?.offset})` });
      const offsets = got.map((x) => x.offset);
      assert.deepEqual(offsets, Array.from({ length: sent - start }, (_, i) => start + 1 + i), `subscribed at ${start}`);
    });

    test('since {offset, epoch} mid-stream: replay and live merge into one contiguous sequence', T, async () => {
      const channel = `rec:${uid('since')}`;
      const rs = await publishN(channel, 1, 20);
      let stop = false;
      let sent = 20;
      const flood = (async () => {
        while (!stop && sent < 400) { sent++; await server.apiOK('publish', { channel, data: { i: sent } }); }
      })();
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(channel, { since: { offset: 10, epoch: rs[0].epoch } });
      const got = collect(sub, 'publication');
      const p = waitEvent(sub, 'subscribed');
      sub.subscribe();
      const ctx = await p;
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await flood;
      assert.equal(ctx.recovered, true, JSON.stringify(ctx));
      await until(() => (got.at(-1)?.offset ?? 0) >= sent, { what: `offsets up to ${sent}` });
      assert.deepEqual(got.map((x) => x.offset), Array.from({ length: sent - 10 }, (_, i) => 11 + i));
    });

    test('rapid unsubscribe/subscribe cycles end subscribed and receiving', T, async () => {
      const channel = `rec:${uid('cyc')}`;
      const c = newClient(server, proto, { token: token(uid('u')) });
      await connected(c);
      const sub = c.newSubscription(channel);
      const errors = collect(sub, 'error');
      for (let i = 0; i < 20; i++) { sub.subscribe(); sub.unsubscribe(); }
      const p = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await p;
      const pub = waitEvent(sub, 'publication');
      await server.apiOK('publish', { channel, data: { last: true } });
      await pub;
      assert.deepEqual(errors.map((e) => e.error), [], 'no subscribe errors (e.g. 105 already subscribed)');
      assert.equal(c.state, 'connected', `trace: ${traceOf(c)}`);
    });
  });

  describe(`${proto}: recovery after a dropped transport`, () => {
    test('missed publications arrive exactly once, in order, with recovered:true', T, async () => {
      const channel = `rec:${uid('r')}`;
      const c = newClient(server, proto, { token: token(uid('u')), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
      await connected(c);
      const subscribedEvents = [];
      const sub = c.newSubscription(channel);
      sub.on('subscribed', (ctx) => subscribedEvents.push(ctx));
      const got = collect(sub, 'publication');
      const first = waitEvent(sub, 'subscribed');
      sub.subscribe();
      const ctx0 = await first;
      assert.equal(ctx0.recoverable, true, `force_recovery → recoverable: ${JSON.stringify(ctx0)}`);
      assert.equal(ctx0.positioned, true, `recovery implies positioned: ${JSON.stringify(ctx0)}`);
      assert.equal(ctx0.wasRecovering, false);

      // Live phase: 3 publications while connected.
      await publishN(channel, 1, 3);
      await until(() => got.length >= 3, { what: 'live publications' });

      // Cut the network: reset the TCP connection and refuse new ones.
      const disconnecting = waitEvent(c, 'connecting', { what: 'SDK notices the dropped transport' });
      relay.block();
      relay.drop();
      await disconnecting;
      const N = 25;
      const sentWhileAway = await publishN(channel, 4, N);
      assert.equal(sentWhileAway.at(-1).offset, 3 + N);

      // Reconnect and wait for the recovering subscribe.
      const recovered = waitEvent(sub, 'subscribed', { timeout: 8000, filter: (ctx) => ctx.wasRecovering, what: 'recovering subscribe' });
      relay.unblock();
      const ctx1 = await recovered.catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
      assert.equal(ctx1.wasRecovering, true, JSON.stringify(ctx1));
      assert.equal(ctx1.recovered, true, `recovery must succeed: ${JSON.stringify(ctx1)}`);
      assert.equal(ctx1.streamPosition?.epoch, ctx0.streamPosition?.epoch, 'epoch unchanged');

      // A few more live ones after recovery.
      await publishN(channel, 4 + N, 2);
      const total = 3 + N + 2;
      await until(() => got.length >= total, { what: `all ${total} publications (got ${got.length})` });
      await sleep(300);
      const seen = got.map((p) => dec(proto, p.data).i);
      assert.equal(got.length, total, `received ${got.length}, sent ${total}: ${JSON.stringify(seen)}`);
      assert.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1), 'every publication once, in order');
      assert.deepEqual(got.map((p) => p.offset), Array.from({ length: total }, (_, i) => i + 1), 'offsets contiguous');
      assert.equal(subscribedEvents.length, 2, `subscribed events: ${JSON.stringify(subscribedEvents)}`);
    });

    test('too many missed publications for the history → recovered:false, no stale replay', T, async () => {
      const channel = `small:${uid('r')}`;
      const c = newClient(server, proto, { token: token(uid('u')), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
      await connected(c);
      const [sub] = await subscribed(c, channel);
      const got = collect(sub, 'publication');
      await publishN(channel, 1, 1);
      await until(() => got.length >= 1);
      const away = waitEvent(c, 'connecting');
      relay.block();
      relay.drop();
      await away;
      await publishN(channel, 2, 6); // history keeps 3 → offsets 2..4 are gone
      const back = waitEvent(sub, 'subscribed', { timeout: 8000, filter: (ctx) => ctx.wasRecovering });
      relay.unblock();
      const ctx = await back;
      assert.equal(ctx.recovered, false, JSON.stringify(ctx));
      assert.equal(ctx.streamPosition?.offset, 7, `position moves to the stream top: ${JSON.stringify(ctx)}`);
      await sleep(300);
      assert.deepEqual(got.map((p) => dec(proto, p.data).i), [1], 'nothing replayed when recovery fails');
    });
  });
}
