// Map subscriptions on two `spindle server` nodes sharing one real Redis
// (engine redis, map_broker redis), with the real SDK on JSON and Protobuf:
// a map written through node 1 syncs on node 2; client writes on one node
// reach subscribers on the other; a client that drops off node 2 and comes
// back through node 1 recovers exactly the changes it missed; presence maps
// and key expiry work across nodes, each removal delivered once.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { PROTOCOLS, startServer, newClient, connected, closeClients, collect, waitEvent, until, uid, dec, enc } from './helpers.mjs';
import { T30, HOOK, startRedis } from './procs.mjs';
import { nodeConfig, token } from './cluster.mjs';

const mapNamespaces = [
  { name: 'seats', subscription_type: 'map', allow_subscribe_for_client: true, map: { mode: 'persistent', stream_size: 1000, allow_publish_for_client: true, allow_remove_for_client: true } },
  { name: 'short', subscription_type: 'map', allow_subscribe_for_client: true, map: { mode: 'recoverable', key_ttl: '1s' } },
  { name: 'room', allow_subscribe_for_client: true, map_clients_presence_channel_prefix: 'who:' },
  { name: 'who', subscription_type: 'map_clients', allow_subscribe_for_client: true, map: { mode: 'ephemeral', key_ttl: '60s' } },
];

let redis;
let nodes = [];
before(async () => {
  redis = await startRedis();
  const cfg = nodeConfig(redis.address, { map_broker: { type: 'redis' } });
  cfg.namespaces = [...cfg.namespaces, ...mapNamespaces];
  nodes = await Promise.all([startServer(cfg), startServer(cfg)]);
}, HOOK);
after(async () => {
  closeClients();
  await Promise.all(nodes.map((n) => n.stop()));
  await redis?.stop();
}, HOOK);
afterEach(() => closeClients());

/** A TCP relay whose target node can be switched: a client "moves" between nodes. */
async function switchableRelay(port) {
  let target = port;
  const pairs = new Set();
  const srv = net.createServer((down) => {
    const up = net.connect(target, '127.0.0.1');
    const pair = { down, up };
    pairs.add(pair);
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('error', end); up.on('error', end); down.on('close', end); up.on('close', end);
    down.pipe(up); up.pipe(down);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${srv.address().port}/connection/websocket`,
    moveTo(p) { target = p; for (const { down, up } of pairs) { down.resetAndDestroy(); up.resetAndDestroy(); } pairs.clear(); },
    close() { for (const { down, up } of pairs) { down.destroy(); up.destroy(); } return new Promise((r) => srv.close(() => r())); },
  };
}

async function mapSub(c, channel, kind = 'map') {
  const sub = kind === 'clients' ? c.newMapClientsSubscription(channel) : c.newMapSubscription(channel);
  const ev = { syncs: collect(sub, 'sync'), updates: collect(sub, 'update'), subscribed: collect(sub, 'subscribed') };
  const p = waitEvent(sub, 'subscribed', { what: `map subscribed to ${channel}` });
  sub.subscribe();
  await p;
  return [sub, ev];
}

async function client(node, proto, opts = {}) {
  const c = newClient(node, proto, { token: token(uid('u')), ...opts });
  const ctx = await connected(c);
  return [c, ctx];
}

async function seed(node, channel, keys) {
  for (let i = 0; i < keys.length; i += 500) {
    const commands = keys.slice(i, i + 500).map((key) => ({ map_publish: { channel, key, data: { key } } }));
    const res = await node.api('batch', { commands });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.replies.filter((r) => r.error).length, 0, res.text.slice(0, 300));
  }
}

for (const proto of PROTOCOLS) {
  describe(`${proto}: maps on two nodes over Redis`, () => {
    test('a map written through node 1 syncs on node 2; client writes cross nodes both ways', T30, async () => {
      const channel = `seats:${uid('hall')}`;
      const keys = Array.from({ length: 2000 }, (_, i) => `s${String(i).padStart(4, '0')}`);
      await seed(nodes[0], channel, keys);
      const [b] = await client(nodes[1], proto);
      const [, evB] = await mapSub(b, channel);
      assert.equal(evB.syncs.length, 1);
      assert.deepEqual(evB.syncs[0].entries.map((e) => e.key).sort(), keys);
      const [a] = await client(nodes[0], proto);
      const [subA, evA] = await mapSub(a, channel);
      await subA.publish('s0001', enc(proto, { key: 's0001', by: 'a' }));
      await until(() => evB.updates.length === 1, { what: 'write from node 1 at node 2' });
      assert.deepEqual(dec(proto, evB.updates[0].data), { key: 's0001', by: 'a' });
      await b.getMapSubscription(channel).remove('s0002');
      await until(() => evA.updates.length === 2, { what: 'removal from node 2 at node 1' });
      assert.deepEqual([evA.updates[1].key, evA.updates[1].removed], ['s0002', true]);
      assert.equal((await nodes[1].apiOK('map_stats', { channel })).num_keys, 1999);
    });

    test('a client that drops off node 2 and reconnects through node 1 recovers exactly what it missed', T30, async () => {
      const channel = `seats:${uid('move')}`;
      await seed(nodes[0], channel, ['a', 'b']);
      const relay = await switchableRelay(nodes[1].port);
      try {
        const [c] = await client(nodes[1], proto, { url: relay.url });
        const [, ev] = await mapSub(c, channel);
        const disconnected = waitEvent(c, 'connecting', { what: 'drop noticed' });
        relay.moveTo(nodes[0].port);
        await disconnected;
        await nodes[1].apiOK('map_publish', { channel, key: 'a', data: { key: 'a', v: 2 } });
        await nodes[0].apiOK('map_remove', { channel, key: 'b' });
        await until(() => ev.subscribed.length === 2, { what: 'resubscribed on node 1' });
        assert.equal(ev.subscribed[1].recovered, true);
        await until(() => ev.updates.length === 2, { what: 'two recovered changes' });
        assert.equal(ev.syncs.length, 1, 'recovered: no second sync');
        assert.deepEqual(ev.updates.map((u) => [u.key, u.removed === true]), [['a', false], ['b', true]]);
        await nodes[1].apiOK('map_publish', { channel, key: 'c', data: { key: 'c' } });
        await until(() => ev.updates.length === 3, { what: 'live after moving nodes' });
      } finally {
        await relay.close();
      }
    });

    test('presence map across nodes: a member on node 1 appears at an observer on node 2 and leaves on disconnect', T30, async () => {
      const channel = `room:${uid('r')}`;
      const [observer] = await client(nodes[1], proto);
      const [, ev] = await mapSub(observer, `who:${channel}`, 'clients');
      const [member, memberCtx] = await client(nodes[0], proto);
      const s = member.newSubscription(channel);
      s.subscribe();
      await waitEvent(s, 'subscribed');
      await until(() => ev.updates.length === 1, { what: 'presence entry at node 2' });
      assert.equal(ev.updates[0].key, memberCtx.client);
      member.disconnect();
      await until(() => ev.updates.length === 2, { what: 'presence removal at node 2' });
      assert.deepEqual([ev.updates[1].key, ev.updates[1].removed], [memberCtx.client, true]);
    });

    test('an expiring key is removed once for subscribers on both nodes', T30, async () => {
      const channel = `short:${uid('ttl')}`;
      const [a] = await client(nodes[0], proto);
      const [b] = await client(nodes[1], proto);
      const [, evA] = await mapSub(a, channel);
      const [, evB] = await mapSub(b, channel);
      await nodes[0].apiOK('map_publish', { channel, key: 'k', data: { v: 1 } });
      for (const ev of [evA, evB]) await until(() => ev.updates.some((u) => u.removed), { timeout: 6000, what: 'TTL removal' });
      await new Promise((r) => setTimeout(r, 1500)); // both nodes run cleanup: still one removal each
      for (const ev of [evA, evB]) assert.deepEqual(ev.updates.map((u) => u.removed === true), [false, true]);
    });
  });
}
