// Several `spindle server` nodes on Redis (spec §5.5): three real server
// processes share one redis-server — and, in a second topology, two Redis
// shards (`redis_address: [a, b]`) — with centrifuge SDK clients spread over
// the nodes. Fan-out, presence, `info`, recovery after a client moves to
// another node. Redis and node faults are in faultmatrix.test.mjs.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import {
  PROTOCOLS, subscribed, closeClients, waitEvent, collect, sleep, uid, dec, enc, until,
} from './helpers.mjs';
import { T30, HOOK, startRedis } from './procs.mjs';
import { startNodes, clientOn, publish } from './cluster.mjs';


afterEach(() => closeClients());

/** Keys in one Redis matching `pattern`, through redis-cli. */
function redisKeys(port, pattern) {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(port), '--scan', '--pattern', pattern], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(t); code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`redis-cli exit ${code}`)); });
  });
}


// ---------------------------------------------------------------------------
// Fan-out, presence, info and recovery on both topologies.

for (const topology of ['one Redis', 'two Redis shards']) {
  describe(`three nodes on ${topology}`, () => {
    let redis = [];
    let nodes = [];
    before(async () => {
      redis = await Promise.all((topology === 'one Redis' ? [1] : [1, 2]).map(() => startRedis()));
      const address = redis.length === 1 ? redis[0].address : redis.map((r) => r.address);
      nodes = await startNodes(3, address);
    }, HOOK);
    after(async () => {
      closeClients();
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all(redis.map((r) => r.stop()));
    }, HOOK);

    test('publish via the API of node 1 reaches clients on all three nodes, in both formats', T30, async () => {
      // Several channels, so that with two shards both hold some.
      const channels = Array.from({ length: 12 }, () => `chat:${uid('room')}`);
      const clients = [];
      for (const [i, node] of nodes.entries()) {
        for (const proto of PROTOCOLS) clients.push({ c: await clientOn(node, proto), proto, node: i + 1 });
      }
      const subs = [];
      for (const { c, proto, node } of clients) {
        for (const ch of channels) {
          const [sub] = await subscribed(c, ch);
          subs.push({ sub, proto, node, ch, got: collect(sub, 'publication') });
        }
      }
      for (const [k, ch] of channels.entries()) await publish(nodes[0], ch, { k });
      await until(() => subs.every((s) => s.got.length >= 1), {
        timeout: 8000,
        what: `every subscriber got its publication; missing: ${JSON.stringify(subs.filter((s) => !s.got.length).map((s) => [s.node, s.proto, s.ch]))}`,
      });
      for (const s of subs) {
        assert.equal(s.got.length, 1, `exactly one publication on ${s.ch} (node ${s.node}, ${s.proto})`);
        assert.deepEqual(dec(s.proto, s.got[0].data), { k: channels.indexOf(s.ch) });
      }

      // A client publish on node 3 reaches node 1, with the publisher's info.
      const from = clients.find((x) => x.node === 3 && x.proto === 'protobuf');
      const to = subs.find((s) => s.node === 1 && s.proto === 'json' && s.ch === channels[0]);
      const p = waitEvent(to.sub, 'publication', { filter: (x) => x.data?.hello === 'from node 3' });
      await from.c.publish(channels[0], enc('protobuf', { hello: 'from node 3' }));
      assert.equal((await p).info?.user, from.c.__user);

      if (redis.length === 2) {
        // The channels really are spread over both shards (PUB/SUB channels of live subscriptions).
        const perShard = await Promise.all(redis.map(async (r) => {
          const out = await new Promise((resolve) => {
            const cli = spawn('redis-cli', ['-p', String(r.port), 'PUBSUB', 'CHANNELS', '*chat:*'], { stdio: ['ignore', 'pipe', 'ignore'] });
            let s = '';
            cli.stdout.on('data', (d) => { s += d; });
            cli.on('close', () => resolve(s.split('\n').filter(Boolean)));
          });
          return out.length;
        }));
        assert.ok(perShard.every((n) => n > 0), `channels on each shard: ${perShard}`);
        assert.equal(perShard[0] + perShard[1], channels.length, `each channel on exactly one shard: ${perShard}`);
      }
    });

    test('presence asked at node 3 lists the clients of every node; presence_stats counts them', T30, async () => {
      const channel = `chat:${uid('pres')}`;
      const clients = [];
      for (const [i, node] of nodes.entries()) {
        const c = await clientOn(node, PROTOCOLS[i % 2]);
        await subscribed(c, channel);
        clients.push(c);
      }
      const want = clients.map((c) => c.__id).sort();
      const res = await until(async () => {
        const r = await nodes[2].apiOK('presence', { channel });
        return Object.keys(r.presence).length === 3 ? r : null;
      }, { timeout: 5000, what: 'three presence entries' });
      assert.deepEqual(Object.keys(res.presence).sort(), want);
      for (const c of clients) assert.equal(res.presence[c.__id].user, c.__user);
      assert.deepEqual(await nodes[1].apiOK('presence_stats', { channel }), { num_clients: 3, num_users: 3 });
      // The SDK's presence call on node 1 sees the same.
      const sdk = await clients[0].getSubscription(channel).presence();
      assert.deepEqual(Object.keys(sdk.clients).sort(), want);
    });

    test('info lists the three nodes with their client counts', T30, async () => {
      const c = await clientOn(nodes[1], 'json');
      const uids = new Set();
      const res = await until(async () => {
        const r = await nodes[0].apiOK('info', {});
        return r.nodes?.length === 3 && r.nodes.some((n) => n.num_clients >= 1) ? r : null;
      }, { timeout: 10000, interval: 250, what: 'info with 3 nodes' });
      for (const n of res.nodes) uids.add(n.uid);
      assert.equal(uids.size, 3, JSON.stringify(res.nodes));
      assert.ok(c.state === 'connected');
    });

    for (const proto of PROTOCOLS) {
      test(`${proto}: recovery after the client moves from node 1 to node 2 (since = saved position)`, T30, async () => {
        const channel = `rec:${uid('move')}`;
        const c1 = await clientOn(nodes[0], proto);
        const [s1, ctx1] = await subscribed(c1, channel);
        assert.equal(ctx1.recoverable, true, JSON.stringify(ctx1));
        const got1 = collect(s1, 'publication');
        for (let i = 1; i <= 3; i++) await publish(nodes[2], channel, { i });
        await until(() => got1.length === 3, { what: 'first three publications' });
        const pos = { offset: got1[2].offset, epoch: ctx1.streamPosition.epoch };
        assert.equal(pos.offset, 3);
        c1.disconnect();

        const acked = [];
        for (let i = 4; i <= 8; i++) acked.push(await publish(nodes[0], channel, { i }));
        assert.ok(acked.every((r) => r.epoch === pos.epoch), 'same stream');

        const c2 = await clientOn(nodes[1], proto);
        const s2 = c2.newSubscription(channel, { since: pos });
        const got2 = collect(s2, 'publication');
        const subscribedP = waitEvent(s2, 'subscribed');
        s2.subscribe();
        const ctx2 = await subscribedP;
        assert.equal(ctx2.wasRecovering, true, JSON.stringify(ctx2));
        assert.equal(ctx2.recovered, true, JSON.stringify(ctx2));
        await until(() => got2.length >= 5, { what: 'five recovered publications' });
        await publish(nodes[2], channel, { i: 9 });
        await until(() => got2.length >= 6, { what: 'live publication after recovery' });
        await sleep(100);
        assert.deepEqual(got2.map((p) => dec(proto, p.data).i), [4, 5, 6, 7, 8, 9], 'exactly once, in order');
        assert.deepEqual(got2.map((p) => p.offset), [4, 5, 6, 7, 8, 9]);
      });
    }

    if (topology === 'two Redis shards') {
      test('history streams live on both shards', T30, async () => {
        const channels = Array.from({ length: 12 }, () => `rec:${uid('spread')}`);
        for (const ch of channels) await publish(nodes[0], ch, { x: 1 });
        const counts = await Promise.all(redis.map((r) => redisKeys(r.port, '*history.stream.rec:spread*').then((k) => k.length)));
        assert.ok(counts.every((n) => n > 0), `history streams per shard: ${counts}`);
        assert.equal(counts[0] + counts[1], channels.length, `each stream on one shard: ${counts}`);
        // History of each is readable from another node.
        for (const ch of channels) {
          const h = await nodes[2].apiOK('history', { channel: ch, limit: 10 });
          assert.equal(h.publications.length, 1, ch);
        }
      });
    }
  });
}
