// Shared-poll subscriptions with the real SDK (spec transports §4.8, §6
// shared_poll.test.ts and shared_poll.protobuf.test.ts), JSON and Protobuf,
// against a poll backend this file runs (an HTTP proxy counting its calls):
// items pushed when they change and not otherwise, the first value at once,
// one backend poll per channel however many subscribers, untrack, removals,
// versionless versions, signatures (bad → error, the SDK's getSignature),
// a backend that fails and comes back, and shared_poll_publish.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';

import {
  PROTOCOLS, T, startServer, newClient, connected, closeClients, collect, waitEvent,
  until, uid, signJWT, nowSec, dec, sleep, startRelay,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();
const POLL_SECRET = 'e2e-poll-secret-' + crypto.randomBytes(16).toString('hex');

/** The poll backend: items per channel, a call log, and a switch to fail. */
const backend = {
  items: new Map(), // channel → Map(key → item)
  calls: [],
  failing: false,
  set(ch, key, data, version = 0) {
    if (!this.items.has(ch)) this.items.set(ch, new Map());
    this.items.get(ch).set(key, { key, data, ...(version ? { version } : {}) });
  },
  remove(ch, key) { this.items.get(ch).set(key, { key, removed: true }); },
  callsFor(ch) { return this.calls.filter((c) => c.channel === ch); },
};

let pollServer;
let server;
before(async () => {
  pollServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const r = JSON.parse(body);
      backend.calls.push(r);
      if (backend.failing) { res.writeHead(500); res.end('down'); return; }
      const items = (r.items || []).map((it) => backend.items.get(r.channel)?.get(it.key)).filter(Boolean);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ result: { items } }));
    });
  });
  await new Promise((r) => pollServer.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${pollServer.address().port}/refresh`;
  const ns = (name, extra) => ({
    name, subscription_type: 'shared_poll', allow_subscribe_for_client: true,
    shared_poll: { proxy_name: 'poll_backend', refresh_interval: '200ms', refresh_batch_size: 100, max_keys_per_connection: 100, ...extra },
  });
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    shared_poll: { hmac_secret_key: POLL_SECRET },
    proxies: [{ name: 'poll_backend', endpoint, timeout: '5s' }],
    namespaces: [
      ns('poll', { mode: 'versioned', publish_enabled: true }),
      ns('pollvl', {}),
      { ...ns('polld', { mode: 'versioned' }), allowed_delta_types: ['fossil'] },
    ],
  });
});
after(async () => {
  await server?.stop();
  await new Promise((r) => (pollServer ? pollServer.close(() => r()) : r()));
});
afterEach(() => closeClients());

/** The application's signature for a batch, as a backend computes it. */
function sign(user, channel, keys, ttl = 3600) {
  const iat = String(nowSec(Math.min(0, ttl - 60)));
  const exp = String(nowSec(ttl));
  const keysHash = crypto.createHash('sha256').update(keys.join('\0')).digest('hex');
  const mac = crypto.createHmac('sha256', POLL_SECRET).update([iat, exp, user, channel, keysHash].join('\0')).digest('hex');
  return `${iat}:${exp}:${mac}`;
}

async function pollClient(proto, channel, { user = uid('u'), getSignature, delta, url } = {}) {
  const c = newClient(server, proto, { token: signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }), ...(url ? { url } : {}) });
  await connected(c);
  const sub = c.newSharedPollSubscription(channel, {
    getSignature: getSignature || (async ({ keys }) => ({ keys, signature: sign(user, channel, keys) })),
    ...(delta ? { delta } : {}),
  });
  const ev = { updates: collect(sub, 'update'), errors: collect(sub, 'error') };
  const p = waitEvent(sub, 'subscribed', { what: `subscribed to ${channel}` });
  sub.subscribe();
  const ctx = await p;
  return { c, sub, ev, ctx, user };
}

const view = (proto, u) => (u.removed ? `${u.key} removed` : `${u.key}=${JSON.stringify(dec(proto, u.data))}@${u.version}`);

for (const proto of PROTOCOLS) {
  describe(`${proto}: shared poll`, () => {
    test('tracked items arrive at once, changes are pushed, unchanged items are not', T, async () => {
      const ch = `poll:${uid('scores')}`;
      backend.set(ch, 'm1', { score: '0:0' }, 1);
      backend.set(ch, 'm2', { score: '1:1' }, 1);
      const { sub, ev } = await pollClient(proto, ch);
      // The SDK keeps the subscribe reply's epoch (not in its public context).
      assert.equal(sub._sharedPollEpoch, '', 'versioned: no epoch until the backend names one');
      sub.track(['m1', 'm2']);
      await until(() => ev.updates.length === 2, { what: 'both items' });
      assert.deepEqual(ev.updates.map((u) => view(proto, u)).sort(), ['m1={"score":"0:0"}@1', 'm2={"score":"1:1"}@1']);
      const polls = backend.callsFor(ch).length;
      await until(() => backend.callsFor(ch).length >= polls + 3, { what: 'three more polls' });
      assert.equal(ev.updates.length, 2, 'unchanged items are not pushed again');
      backend.set(ch, 'm1', { score: '1:0' }, 2);
      await until(() => ev.updates.length === 3, { what: 'the change' });
      assert.equal(view(proto, ev.updates[2]), 'm1={"score":"1:0"}@2');
      // The backend is told the versions the server holds.
      const seen = backend.callsFor(ch).length;
      await until(() => backend.callsFor(ch).length > seen, { what: 'the next poll' });
      const last = backend.callsFor(ch).at(-1);
      assert.deepEqual(last.items.map((i) => [i.key, i.version]).sort(), [['m1', 2], ['m2', 1]]);
    });

    test('one backend poll per channel for ten subscribers of the same keys', T, async () => {
      const ch = `poll:${uid('many')}`;
      backend.set(ch, 'k', { v: 1 }, 1);
      const subs = [];
      for (let i = 0; i < 10; i++) subs.push(await pollClient(proto, ch));
      for (const s of subs) s.sub.track(['k']);
      for (const s of subs) await until(() => s.ev.updates.length === 1, { what: 'the item at every subscriber' });
      const before = backend.callsFor(ch).length;
      await sleep(1000); // five intervals
      const during = backend.callsFor(ch).length - before;
      assert.ok(during >= 3 && during <= 7, `${during} polls in 1 s with a 200 ms interval, for 10 subscribers`);
      assert.ok(backend.callsFor(ch).every((c) => c.items.length === 1), 'each poll asks for the key once');
    });

    test('untrack stops an item; a removal reaches the tracker', T, async () => {
      const ch = `poll:${uid('untrack')}`;
      for (const k of ['a', 'b', 'c']) backend.set(ch, k, { k }, 1);
      const { sub, ev } = await pollClient(proto, ch);
      sub.track(['a', 'b', 'c']);
      await until(() => ev.updates.length === 3, { what: 'three items' });
      sub.untrack(['a']);
      await sleep(300);
      backend.set(ch, 'a', { k: 'a2' }, 2);
      backend.remove(ch, 'b');
      await until(() => ev.updates.some((u) => u.key === 'b' && u.removed), { what: 'the removal' });
      await sleep(500);
      assert.ok(!ev.updates.some((u) => u.key === 'a' && u.version === 2), 'an untracked item was pushed');
    });

    test('versionless: the server versions by content', T, async () => {
      const ch = `pollvl:${uid('vl')}`;
      backend.set(ch, 'k', { text: 'first' });
      const { sub, ev } = await pollClient(proto, ch);
      assert.match(sub._sharedPollEpoch, /^[A-Za-z]{8}$/, 'versionless: an epoch of 8 letters');
      sub.track(['k']);
      await until(() => ev.updates.length === 1, { what: 'the item' });
      await sleep(600);
      backend.set(ch, 'k', { text: 'second' });
      await until(() => ev.updates.length === 2, { what: 'the change' });
      assert.deepEqual(ev.updates.map((u) => view(proto, u)), ['k={"text":"first"}@1', 'k={"text":"second"}@2']);
    });

    test('a bad signature is refused with 103 and the subscription keeps working', T, async () => {
      const ch = `poll:${uid('sig')}`;
      backend.set(ch, 'k', { v: 1 }, 1);
      const { sub, ev, user } = await pollClient(proto, ch, {
        getSignature: async ({ keys }) => ({ keys, signature: sign('someone-else', ch, keys) }),
      });
      sub.track(['k']);
      await until(() => ev.errors.length >= 1, { what: 'the track error' });
      assert.equal(ev.errors[0].error.code, 103);
      // The SDK drops a refused key and says so with a synthetic removal;
      // no value may have come.
      assert.deepEqual(ev.updates.filter((u) => !u.removed), []);
      sub.track([{ key: 'k', version: 0 }], sign(user, ch, ['k']));
      await until(() => ev.updates.some((u) => !u.removed), { what: 'the item with a good signature' });
    });

    test('an expired signature is 109: the SDK asks getSignature again and the item comes', T, async () => {
      const ch = `poll:${uid('exp')}`;
      backend.set(ch, 'k', { v: 1 }, 1);
      let calls = 0;
      const { sub, ev, user } = await pollClient(proto, ch, {
        getSignature: async ({ keys }) => ({ keys, signature: sign(user, ch, keys, calls++ === 0 ? -60 : 3600) }),
      });
      sub.track(['k']);
      await until(() => ev.updates.some((u) => !u.removed), { timeout: 8000, what: 'the item after a fresh signature' });
      assert.ok(calls >= 2, `getSignature called ${calls} times`);
    });

    test('a backend that fails and comes back: no pushes meanwhile, no disconnect, then the change', T, async () => {
      const ch = `poll:${uid('down')}`;
      backend.set(ch, 'k', { v: 1 }, 1);
      const { c, sub, ev } = await pollClient(proto, ch);
      sub.track(['k']);
      await until(() => ev.updates.length === 1, { what: 'the item' });
      backend.failing = true;
      backend.set(ch, 'k', { v: 2 }, 2);
      let newcomer;
      try {
        const failedFrom = backend.callsFor(ch).length;
        await until(() => backend.callsFor(ch).length > failedFrom, { what: 'a failed poll' });
        assert.equal(ev.updates.length, 1);
        assert.equal(c.state, 'connected');
        // A newcomer wanting a key with no value yet is told: a temporary
        // error on its track, which the SDK retries.
        backend.set(ch, 'fresh', { v: 1 }, 1);
        newcomer = await pollClient(proto, ch);
        newcomer.sub.track(['fresh']);
        await until(() => newcomer.ev.errors.length >= 1, { what: 'the track error' });
        assert.equal(newcomer.ev.errors[0].error.code, 100);
      } finally {
        backend.failing = false;
      }
      await until(() => ev.updates.length === 2, { timeout: 8000, what: 'the change once the backend is back' });
      assert.equal(view(proto, ev.updates[1]), 'k={"v":2}@2');
      await until(() => newcomer.ev.updates.some((u) => u.key === 'fresh' && !u.removed), { timeout: 10000, what: 'the retried track served' });
    });

    test('a reconnect replays the tracked batches with an inline untrack: only newer versions come, the untracked key stays out', T, async () => {
      const relay = await startRelay(server.port);
      try {
        const ch = `poll:${uid('replay')}`;
        for (const k of ['a', 'b', 'c']) backend.set(ch, k, { k, v: 1 }, 1);
        let signatures = 0;
        const { c, sub, ev, user } = await pollClient(proto, ch, {
          url: `ws://127.0.0.1:${relay.port}/connection/websocket`,
          getSignature: async ({ keys }) => { signatures++; return { keys, signature: sign(user, ch, keys) }; },
        });
        sub.track(['a', 'b']);
        sub.track(['c']); // a second batch
        await until(() => ev.updates.length === 3, { what: 'three items' });
        sub.untrack(['b']);
        await sleep(300);
        relay.drop();
        await waitEvent(c, 'connecting', { what: 'drop noticed' });
        relay.block();
        backend.set(ch, 'a', { k: 'a', v: 2 }, 2);
        backend.set(ch, 'b', { k: 'b', v: 2 }, 2);
        const signedBefore = signatures;
        relay.unblock();
        await until(() => ev.updates.length === 4, { timeout: 8000, what: 'the change of a after the reconnect' });
        await sleep(600);
        assert.deepEqual(ev.updates.slice(3).map((u) => view(proto, u)), ['a={"k":"a","v":2}@2'], 'only a changed; b is untracked, c unchanged');
        // The SDK replays its cached batches ([a, b] and [c]) with an inline
        // untrack of b; the server applies the untrack after the batch.
        assert.ok(signatures >= signedBefore);
      } finally {
        await relay.close();
      }
    });

    test('per-key fossil deltas: the first value whole, then patches the SDK decodes', T, async () => {
      const ch = `polld:${uid('delta')}`;
      const doc = (v) => ({ match: 'Rovers v United', venue: 'Old Park, north stand', minute: v, score: '1:0', events: ["goal 12'", "card 30'"] });
      backend.set(ch, 'm', doc(1), 1);
      const { sub, ev } = await pollClient(proto, ch, { delta: 'fossil' });
      sub.track(['m']);
      await until(() => ev.updates.length === 1, { what: 'the first value' });
      for (let v = 2; v <= 4; v++) {
        backend.set(ch, 'm', doc(v), v);
        await until(() => ev.updates.length === v, { what: `version ${v}` });
      }
      assert.deepEqual(ev.updates.map((u) => dec(proto, u.data).minute), [1, 2, 3, 4]);
      const stats = sub.deltaStats();
      assert.equal(stats.numFullPayloads, 1, JSON.stringify(stats));
      assert.equal(stats.numDeltaPayloads, 3, JSON.stringify(stats));
    });

    test('shared_poll_publish pushes a version at once; a versionless namespace refuses it (108)', T, async () => {
      const ch = `poll:${uid('pub')}`;
      backend.set(ch, 'k', { v: 1 }, 1);
      const { sub, ev } = await pollClient(proto, ch);
      sub.track(['k']);
      await until(() => ev.updates.length === 1, { what: 'the item' });
      await server.apiOK('shared_poll_publish', { channel: ch, key: 'k', data: { v: 7 }, version: 7 });
      await until(() => ev.updates.length === 2, { timeout: 1000, what: 'the published version' });
      assert.equal(view(proto, ev.updates[1]), 'k={"v":7}@7');
      const r = await server.api('shared_poll_publish', { channel: `pollvl:${uid()}`, key: 'k', data: {}, version: 1 });
      assert.equal(r.json.error.code, 108);
    });
  });
}

// Two nodes on one Redis: each node polls for its own subscribers (the
// backend sees both nodes' polls, none per subscriber), and
// shared_poll_publish through one node reaches trackers on the other.
describe('shared poll on two nodes over Redis', () => {
  let redis;
  let nodes = [];
  before(async () => {
    const { startRedis } = await import('./procs.mjs');
    redis = await startRedis();
    const endpoint = `http://127.0.0.1:${pollServer.address().port}/refresh`;
    const cfg = {
      token_hmac_secret_key: SECRET,
      api_key: API_KEY,
      engine: 'redis',
      redis_address: redis.address,
      shared_poll: { hmac_secret_key: POLL_SECRET },
      proxies: [{ name: 'poll_backend', endpoint, timeout: '5s' }],
      namespaces: [{
        name: 'poll', subscription_type: 'shared_poll', allow_subscribe_for_client: true,
        shared_poll: { proxy_name: 'poll_backend', mode: 'versioned', publish_enabled: true, refresh_interval: '200ms' },
      }],
    };
    nodes = await Promise.all([startServer(cfg), startServer(cfg)]);
  }, { timeout: 20000 });
  after(async () => {
    closeClients();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, { timeout: 20000 });

  test('each node polls for its own subscribers; shared_poll_publish through node 1 reaches node 2', T, async () => {
    const ch = `poll:${uid('cluster')}`;
    backend.set(ch, 'k', { v: 1 }, 1);
    const subs = [];
    for (const node of nodes) {
      for (let i = 0; i < 3; i++) {
        const user = uid('u');
        const c = newClient(node, 'json', { token: signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }) });
        await connected(c);
        const sub = c.newSharedPollSubscription(ch, { getSignature: async ({ keys }) => ({ keys, signature: sign(user, ch, keys) }) });
        const updates = collect(sub, 'update');
        const p = waitEvent(sub, 'subscribed');
        sub.subscribe();
        await p;
        sub.track(['k']);
        subs.push(updates);
      }
    }
    for (const u of subs) await until(() => u.length === 1, { what: 'the item on both nodes' });
    const before = backend.callsFor(ch).length;
    await sleep(1000);
    const polls = backend.callsFor(ch).length - before;
    // Two nodes, 200 ms: about 10 polls, whatever the number of subscribers.
    assert.ok(polls >= 6 && polls <= 14, `${polls} polls in 1 s from two nodes with six subscribers`);
    await nodes[0].apiOK('shared_poll_publish', { channel: ch, key: 'k', data: { v: 5 }, version: 5 });
    for (const u of subs) await until(() => u.length === 2, { timeout: 2000, what: 'the published version on both nodes' });
    assert.ok(subs.every((u) => u[1].version === 5 && dec('json', u[1].data).v === 5));
  });
});
