// Map subscriptions with the real SDK (spec transports §4, §6 map.test.ts,
// map.protobuf.test.ts, the map parts of delta.test.ts and recovery.test.ts),
// on JSON and Protobuf: a late joiner syncs a 5,000-key map page by page,
// then follows changes; recovery after a dropped connection delivers exactly
// the missed changes and no sync; an ephemeral map re-syncs in full; a
// trimmed stream restarts from scratch (or ends the subscription with 112
// under 'fatal'); client writes, client_key, key TTL removal, the
// map_clients presence map, tags filters and per-key deltas.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, closeClients, collect,
  uid, signJWT, nowSec, dec, enc, until, startRelay, waitEvent,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();
const userMap = (map, extra = {}) => ({ subscription_type: 'map', allow_subscribe_for_client: true, map, ...extra });

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    map_broker: {},
    namespaces: [
      { name: 'persistent', ...userMap({ mode: 'persistent', stream_size: 1000, allow_publish_for_client: true, allow_remove_for_client: true }) },
      { name: 'recoverable', ...userMap({ mode: 'recoverable', key_ttl: '1s' }) },
      { name: 'streamless', ...userMap({ mode: 'ephemeral', key_ttl: '60s', allow_publish_for_client: true, allow_remove_for_client: true }) },
      { name: 'smallstream', ...userMap({ mode: 'persistent', stream_size: 2, stream_ttl: '60s' }) },
      { name: 'clientkey', ...userMap({ mode: 'ephemeral', key_ttl: '60s', client_key: 'client_id', allow_publish_for_subscriber: true }) },
      { name: 'tagged', ...userMap({ mode: 'persistent' }, { allow_tags_filter: true }) },
      { name: 'mapdelta', ...userMap({ mode: 'persistent' }, { allowed_delta_types: ['fossil'], delta_publish: true }) },
      { name: 'prestest', allow_subscribe_for_client: true, map_clients_presence_channel_prefix: 'prescli:' },
      { name: 'prescli', subscription_type: 'map_clients', allow_subscribe_for_client: true, map: { mode: 'ephemeral', key_ttl: '60s' } },
      { name: 'stream', allow_subscribe_for_client: true },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

const token = (sub = uid('u')) => signJWT({ sub, exp: nowSec(3600) }, { key: SECRET });

/** Writes keys through the server API, 500 per batch call. */
async function seed(channel, keys, value = (k) => ({ k }), extra = {}) {
  for (let i = 0; i < keys.length; i += 500) {
    const commands = keys.slice(i, i + 500).map((key) => ({ map_publish: { channel, key, data: value(key), ...extra } }));
    const res = await server.api('batch', { commands });
    assert.equal(res.status, 200, res.text);
    const failed = res.json.replies.filter((r) => r.error);
    assert.equal(failed.length, 0, `batch map_publish errors: ${JSON.stringify(failed.slice(0, 3))}`);
  }
}

const keys = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

/** Subscribes a map subscription; resolves with [sub, subscribedCtx, syncEntries|null, events]. */
async function mapSubscribed(c, channel, opts = {}, kind = 'map') {
  const sub = kind === 'clients' ? c.newMapClientsSubscription(channel, opts) : c.newMapSubscription(channel, opts);
  const events = { syncs: collect(sub, 'sync'), updates: collect(sub, 'update'), subscribed: collect(sub, 'subscribed'), errors: collect(sub, 'error'), unsubscribed: collect(sub, 'unsubscribed') };
  const p = waitEvent(sub, 'subscribed', { what: `map subscribed to ${channel}` });
  sub.subscribe();
  let ctx;
  try {
    ctx = await p;
  } catch (e) {
    throw new Error(`${e.message}; errors ${JSON.stringify(events.errors.map((x) => x.error))}; unsubscribed ${JSON.stringify(events.unsubscribed)}`);
  }
  return [sub, ctx, events];
}

/** The map as the app sees it: sync entries, then every update folded in. */
function folded(proto, events) {
  const m = new Map();
  const last = events.syncs.at(-1);
  for (const e of last?.entries ?? []) m.set(e.key, dec(proto, e.data));
  for (const u of events.updates) {
    if (u.removed) m.delete(u.key); else m.set(u.key, dec(proto, u.data));
  }
  return m;
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: map subscriptions`, () => {
    test('a late joiner syncs a 5,000-key map page by page, then follows changes and removals', T, async () => {
      const channel = `persistent:${uid('big')}`;
      const all = keys('seat-', 5000);
      await seed(channel, all);
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const [, ctx, ev] = await mapSubscribed(c, channel, { pageSize: 1000 });
      assert.equal(ctx.recoverable, true, 'a persistent map is recoverable');
      await until(() => ev.syncs.length === 1, { what: 'sync event' });
      const entries = ev.syncs[0].entries;
      assert.equal(entries.length, 5000);
      assert.deepEqual(entries.map((e) => e.key).sort(), all);
      assert.deepEqual(dec(proto, entries.find((e) => e.key === 'seat-01234').data), { k: 'seat-01234' });

      await server.apiOK('map_publish', { channel, key: 'seat-00007', data: { k: 'taken' } });
      await server.apiOK('map_remove', { channel, key: 'seat-00008' });
      await until(() => ev.updates.length === 2, { what: 'two updates' });
      assert.equal(ev.updates[0].key, 'seat-00007');
      assert.deepEqual(dec(proto, ev.updates[0].data), { k: 'taken' });
      assert.equal(ev.updates[1].key, 'seat-00008');
      assert.equal(ev.updates[1].removed, true);
      const m = folded(proto, ev);
      assert.equal(m.size, 4999);
      assert.deepEqual(m.get('seat-00007'), { k: 'taken' });
    });

    test('two clients: one writes and removes keys, the other sees each change; the writer gets an empty reply', T, async () => {
      const channel = `persistent:${uid('two')}`;
      const a = newClient(server, proto, { token: token('alice') });
      const b = newClient(server, proto, { token: token('bob') });
      await Promise.all([connected(a), connected(b)]);
      const [subA] = await mapSubscribed(a, channel);
      const [, , evB] = await mapSubscribed(b, channel);
      assert.deepEqual(evB.syncs[0]?.entries ?? [], []);
      await subA.publish('cursor', enc(proto, { x: 1, y: 2 }));
      await subA.publish('cursor', enc(proto, { x: 3, y: 4 }));
      await subA.remove('cursor');
      await until(() => evB.updates.length === 3, { what: 'three updates at b' });
      assert.deepEqual(evB.updates.map((u) => [u.key, u.removed === true]), [['cursor', false], ['cursor', false], ['cursor', true]]);
      assert.deepEqual(dec(proto, evB.updates[1].data), { x: 3, y: 4 });
      assert.equal(evB.updates[0].info?.user, 'alice', 'the writer is named in info');
      const state = await server.apiOK('map_read_state', { channel });
      assert.deepEqual(state.entries ?? [], []);
    });

    test('recovery after a dropped connection: exactly the missed changes, recovered, no sync', T, async () => {
      const relay = await startRelay(server.port);
      try {
        const channel = `persistent:${uid('rec')}`;
        await seed(channel, ['a', 'b', 'c']);
        const c = newClient(server, proto, { token: token(), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
        await connected(c);
        const [sub, , ev] = await mapSubscribed(c, channel);
        await until(() => ev.syncs.length === 1, { what: 'first sync' });
        relay.drop();
        await waitEvent(c, 'connecting', { what: 'client noticed the drop' });
        relay.block();
        await server.apiOK('map_publish', { channel, key: 'a', data: { k: 'a2' } });
        await server.apiOK('map_remove', { channel, key: 'b' });
        await server.apiOK('map_publish', { channel, key: 'd', data: { k: 'd' } });
        relay.unblock();
        await until(() => ev.subscribed.length === 2, { what: 'resubscribed' });
        const ctx = ev.subscribed[1];
        assert.equal(ctx.wasRecovering, true);
        assert.equal(ctx.recovered, true);
        await until(() => ev.updates.length === 3, { what: 'three recovered updates' });
        assert.equal(ev.syncs.length, 1, 'no second sync after a recovery');
        assert.deepEqual(ev.updates.map((u) => u.key), ['a', 'b', 'd']);
        await server.apiOK('map_publish', { channel, key: 'e', data: { k: 'e' } });
        await until(() => ev.updates.length === 4, { what: 'live after recovery' });
        const m = folded(proto, ev);
        assert.deepEqual([...m.keys()].sort(), ['a', 'c', 'd', 'e']);
        assert.deepEqual(m.get('a'), { k: 'a2' });
        sub.unsubscribe();
      } finally {
        await relay.close();
      }
    });

    test('an ephemeral map re-syncs in full after a reconnect; client publish and remove', T, async () => {
      const relay = await startRelay(server.port);
      try {
        const channel = `streamless:${uid('eph')}`;
        const c = newClient(server, proto, { token: token(), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
        await connected(c);
        const [sub, ctx, ev] = await mapSubscribed(c, channel);
        assert.ok(!ctx.recoverable, 'an ephemeral map has no stream to recover from');
        await sub.publish('k1', enc(proto, { v: 1 }));
        await sub.publish('k2', enc(proto, { v: 2 }));
        await sub.remove('k1');
        await until(() => ev.updates.length === 3, { what: 'own writes' });
        relay.drop();
        await until(() => ev.subscribed.length === 2, { what: 'resubscribed' });
        assert.equal(ev.subscribed[1].recovered, false);
        await until(() => ev.syncs.length === 2, { what: 'second sync' });
        assert.deepEqual(ev.syncs[1].entries.map((e) => [e.key, dec(proto, e.data)]), [['k2', { v: 2 }]]);
      } finally {
        await relay.close();
      }
    });

    test('a trimmed stream: from_scratch re-syncs, fatal ends the subscription with 112', T, async () => {
      for (const strategy of ['from_scratch', 'fatal']) {
        const relay = await startRelay(server.port);
        try {
          const channel = `smallstream:${uid(strategy)}`;
          await seed(channel, ['a']);
          const c = newClient(server, proto, { token: token(), url: `ws://127.0.0.1:${relay.port}/connection/websocket` });
          await connected(c);
          const [, , ev] = await mapSubscribed(c, channel, { unrecoverableStrategy: strategy });
          relay.drop();
          await waitEvent(c, 'connecting', { what: 'drop noticed' });
          relay.block();
          await seed(channel, ['b', 'c', 'd', 'e']); // 4 changes, the stream keeps 2
          relay.unblock();
          if (strategy === 'from_scratch') {
            await until(() => ev.syncs.length === 2, { what: 'full re-sync' });
            assert.deepEqual(ev.syncs[1].entries.map((e) => e.key).sort(), ['a', 'b', 'c', 'd', 'e']);
            assert.equal(ev.subscribed.at(-1).recovered, false);
          } else {
            await until(() => ev.unsubscribed.length === 1, { what: 'unsubscribed' });
            assert.equal(ev.unsubscribed[0].code, 112);
          }
        } finally {
          await relay.close();
        }
      }
    });

    test('client_key: the server keys a write by the writer\'s client id', T, async () => {
      const channel = `clientkey:${uid('ck')}`;
      const a = newClient(server, proto, { token: token('alice') });
      const b = newClient(server, proto, { token: token('bob') });
      const [connA] = await Promise.all([connected(a), connected(b)]);
      const [subA] = await mapSubscribed(a, channel);
      const [, , evB] = await mapSubscribed(b, channel);
      await subA.publish('whatever-i-say', enc(proto, { typing: true }));
      await until(() => evB.updates.length === 1, { what: 'update at b' });
      assert.equal(evB.updates[0].key, connA.client, 'the key is the writer\'s client id');
      const stats = await server.apiOK('map_stats', { channel });
      assert.equal(stats.num_keys, 1);
    });

    test('key TTL: an expired key reaches subscribers as a removal (recoverable map, 1 s)', T, async () => {
      const channel = `recoverable:${uid('ttl')}`;
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const [, , ev] = await mapSubscribed(c, channel);
      await server.apiOK('map_publish', { channel, key: 'short', data: { v: 1 } });
      await until(() => ev.updates.some((u) => u.key === 'short' && u.removed), { timeout: 5000, what: 'TTL removal' });
      assert.deepEqual((await server.apiOK('map_read_state', { channel })).entries ?? [], []);
    });

    test('map_clients presence: a subscriber of C appears in prescli:C with its info, and leaves on unsubscribe', T, async () => {
      const channel = `prestest:${uid('room')}`;
      const observer = newClient(server, proto, { token: token('observer') });
      const member = newClient(server, proto, { token: token('alice') });
      await Promise.all([connected(observer), connected(member)]);
      const [, , ev] = await mapSubscribed(observer, `prescli:${channel}`, {}, 'clients');
      const s = member.newSubscription(channel);
      s.subscribe();
      await waitEvent(s, 'subscribed');
      await until(() => ev.updates.length === 1, { what: 'presence entry' });
      assert.equal(ev.updates[0].info?.user, 'alice');
      const clientId = ev.updates[0].key;
      s.unsubscribe();
      await until(() => ev.updates.length === 2, { what: 'presence removal' });
      assert.deepEqual([ev.updates[1].key, ev.updates[1].removed], [clientId, true]);
    });

    test('tags filter: state and live changes only for matching tags', T, async () => {
      const channel = `tagged:${uid('tf')}`;
      await seed(channel, ['r1'], () => ({ c: 'red' }), { tags: { color: 'red' } });
      await seed(channel, ['b1'], () => ({ c: 'blue' }), { tags: { color: 'blue' } });
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const [, , ev] = await mapSubscribed(c, channel, { tagsFilter: { key: 'color', cmp: 'eq', val: 'red' } });
      assert.deepEqual(ev.syncs[0].entries.map((e) => e.key), ['r1']);
      await seed(channel, ['b2'], () => ({ c: 'blue' }), { tags: { color: 'blue' } });
      await seed(channel, ['r2'], () => ({ c: 'red' }), { tags: { color: 'red' } });
      await until(() => ev.updates.length >= 1, { what: 'red update' });
      assert.deepEqual(ev.updates.map((u) => u.key), ['r2']);
    });

    test('per-key deltas: seeded state counts whole, later changes arrive as patches the SDK decodes', T, async () => {
      const channel = `mapdelta:${uid('md')}`;
      const doc = (key, v) => ({ key, v, notes: 'a long enough description so that a patch is smaller than the value' });
      await seed(channel, ['x', 'y'], (k) => doc(k, 0));
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const [sub, , ev] = await mapSubscribed(c, channel, { delta: 'fossil' });
      for (let v = 1; v <= 5; v++) await server.apiOK('map_publish', { channel, key: v % 2 ? 'x' : 'y', data: doc(v % 2 ? 'x' : 'y', v) });
      await until(() => ev.updates.length === 5, { what: 'five updates' });
      assert.deepEqual(ev.updates.map((u) => dec(proto, u.data).v), [1, 2, 3, 4, 5]);
      const stats = sub.deltaStats();
      assert.ok(stats.numDeltaPayloads >= 5, `patches: ${JSON.stringify(stats)}`);
      assert.ok(stats.numFullPayloads >= 2, `seeded entries count whole: ${JSON.stringify(stats)}`);
    });

    test('refusals: a map subscription to a stream namespace (103), a write to a presence map (103)', T, async () => {
      const c = newClient(server, proto, { token: token() });
      await connected(c);
      const sub = c.newMapSubscription(`stream:${uid('s')}`);
      const err = waitEvent(sub, 'error', { what: 'subscribe error' });
      const unsub = waitEvent(sub, 'unsubscribed', { what: 'unsubscribed' });
      sub.subscribe();
      const got = await Promise.race([err.then((e) => e.error.code), unsub.then((u) => u.code)]);
      assert.equal(got, 103);
      await assert.rejects(c.mapPublish(`prescli:${uid('p')}`, 'k', enc(proto, { v: 1 })), (e) => e.code === 103);
      // The connection keeps serving.
      const [, , ev] = await mapSubscribed(c, `persistent:${uid('ok')}`);
      assert.deepEqual(ev.syncs[0]?.entries ?? [], []);
    });
  });
}
