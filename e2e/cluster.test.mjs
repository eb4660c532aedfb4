// Several `spindle server` nodes on Redis (spec §5.5): three real server
// processes share one redis-server — and, in a second topology, two Redis
// shards (`redis_address: [a, b]`) — with centrifuge SDK clients spread over
// the nodes. Fan-out, presence, `info`, recovery after a client moves to
// another node, Redis killed and restarted under a publish stream, a node's
// Redis link cut while publications go on, and a node killed.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import {
  PROTOCOLS, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, dec, enc, until, traceOf, startRelay,
} from './helpers.mjs';
import { T30, HOOK, startRedis } from './procs.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

afterEach(() => closeClients());

/** Server config of one node of a cluster on `redisAddress` (string or list). */
function nodeConfig(redisAddress, extra = {}) {
  return {
    api_key: API_KEY,
    token_hmac_secret_key: SECRET,
    engine: 'redis',
    redis_address: redisAddress,
    redis_connect_timeout: '500ms',
    redis_io_timeout: '1s',
    global_presence_ttl: '3s',
    client_presence_update_interval: '1s',
    client_channel_position_check_delay: '1s',
    namespaces: [
      {
        name: 'chat', allow_subscribe_for_client: true, allow_publish_for_subscriber: true,
        presence: true, allow_presence_for_subscriber: true,
      },
      { name: 'rec', allow_subscribe_for_client: true, history_size: 1000, history_ttl: '300s', force_recovery: true },
    ],
    ...extra,
  };
}

/** Starts `n` nodes on the given Redis address(es), in parallel. */
function startNodes(n, redisAddress, extra) {
  return Promise.all(Array.from({ length: n }, () => startServer(nodeConfig(redisAddress, extra))));
}

const token = (user) => signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });

/** A connected SDK client on `node`; user defaults to a fresh id. */
async function clientOn(node, proto, user = uid('u')) {
  const c = newClient(node, proto, { token: token(user) });
  const ctx = await connected(c);
  c.__user = user;
  c.__id = ctx.client;
  return c;
}

/** Keys in one Redis matching `pattern`, through redis-cli. */
function redisKeys(port, pattern) {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(port), '--scan', '--pattern', pattern], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.on('error', reject);
    p.on('exit', (code) => { clearTimeout(t); code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error(`redis-cli exit ${code}`)); });
  });
}

/** Publishes via the HTTP API of `node`; returns the publish result or throws. */
const publish = (node, channel, data) => node.apiOK('publish', { channel, data });

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
            cli.on('exit', () => resolve(s.split('\n').filter(Boolean)));
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

// ---------------------------------------------------------------------------
// Faults.

describe('faults', () => {
  test('Redis killed and restarted during a publish stream: no acknowledged publication silently lost', T30, async () => {
    let redis = await startRedis();
    const nodes = await startNodes(2, redis.address);
    try {
      const channel = `rec:${uid('storm')}`;
      const results = await Promise.all(PROTOCOLS.map(async (proto) => {
        const c = await clientOn(nodes[1], proto);
        const sub = c.newSubscription(channel);
        const got = collect(sub, 'publication');
        const subscribedEvents = [];
        sub.on('subscribed', (ctx) => subscribedEvents.push({ ...ctx, t: Date.now() }));
        const p = waitEvent(sub, 'subscribed');
        sub.subscribe();
        await p;
        return { proto, c, sub, got, subscribedEvents };
      }));

      const acked = [];
      let failed = 0;
      const t0 = Date.now();
      let killedAt = 0;
      let restartedAt = 0;
      let i = 0;
      const faults = (async () => {
        await sleep(1500);
        killedAt = Date.now();
        await redis.kill();
        await sleep(1500);
        redis = await startRedis({ port: redis.port });
        restartedAt = Date.now();
      })().then(() => null, (e) => e); // surfaced after the publish loop
      while (Date.now() - t0 < 7000) {
        i++;
        const r = await nodes[0].api('publish', { channel, data: { i } }).catch((e) => ({ status: 0, text: e.message }));
        if (r.status === 200 && r.json?.result && !r.json.error) acked.push({ i, t: Date.now(), ...r.json.result });
        else failed++;
        await sleep(20);
      }
      const faultError = await faults;
      if (faultError) throw faultError;
      const ackedBefore = acked.filter((a) => a.t < killedAt).length;
      const ackedAfter = acked.filter((a) => a.t > restartedAt).length;
      assert.ok(ackedBefore > 10, `publishes acknowledged before the kill: ${ackedBefore}`);
      assert.ok(failed > 0, 'publishes failed while Redis was down');
      assert.ok(ackedAfter > 10, `publishes acknowledged after the restart: ${ackedAfter} (failed ${failed})`);

      // Give the client time to catch up (live, recovery, or being told).
      for (const r of results) {
        await until(() => {
          const seen = new Set(r.got.map((p) => dec(r.proto, p.data).i));
          const missing = acked.filter((a) => !seen.has(a.i));
          const told = r.subscribedEvents.some((e) => e.wasRecovering && !e.recovered);
          return (missing.length === 0 || told) && seen.has(acked[acked.length - 1].i);
        }, { timeout: 8000, interval: 100, what: `${r.proto}: all acknowledged received, or recovered:false` }).catch(() => {});
      }
      for (const r of results) {
        const seenList = r.got.map((p) => dec(r.proto, p.data).i);
        const seen = new Set(seenList);
        assert.equal(seen.size, seenList.length, `${r.proto}: no publication delivered twice`);
        const missing = acked.filter((a) => !seen.has(a.i));
        const told = r.subscribedEvents.filter((e) => e.wasRecovering && !e.recovered);
        const info = `${r.proto}: acked ${acked.length} (before kill ${ackedBefore}, after restart ${ackedAfter}), failed ${failed}, received ${seen.size}, `
          + `missing ${JSON.stringify(missing.map((a) => a.i))}, subscribed events ${JSON.stringify(r.subscribedEvents.map((e) => ({ wasRecovering: e.wasRecovering, recovered: e.recovered, dt: e.t - t0 })))}, `
          + `trace ${traceOf(r.c)}`;
        if (process.env.E2E_DEBUG) console.error(info);
        if (missing.length > 0) {
          assert.ok(told.length > 0, `gap without recovered:false — ${info}`);
          // Whatever is acknowledged after the client was last (re)positioned is delivered live.
          const lastTold = Math.max(...told.map((e) => e.t));
          const lateMissing = missing.filter((a) => a.t > lastTold + 300);
          assert.deepEqual(lateMissing.map((a) => a.i), [], `publications lost after the client was repositioned — ${info}`);
        }
        assert.ok(acked.filter((a) => a.t > restartedAt).every((a) => seen.has(a.i) || told.length > 0), info);
        assert.ok(seen.has(acked[acked.length - 1].i), `the last acknowledged publication arrived — ${info}`);
      }
    } finally {
      closeClients();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  });

  // Nothing is published after the link returns, so only the periodic
  // position check (client_channel_position_check_delay) can notice the gap.
  test('a node cut off from Redis while publications go on: its client gets them or is told, even if the stream then stops', T30, async () => {
    const redis = await startRedis();
    const relay = await startRelay(redis.port);
    // Node 1 talks to Redis directly, node 2 through a relay we can cut.
    const [n1, n2] = await Promise.all([
      startServer(nodeConfig(redis.address)),
      startServer(nodeConfig(`redis://127.0.0.1:${relay.port}`)),
    ]);
    try {
      const channel = `rec:${uid('cut')}`;
      const results = await Promise.all(PROTOCOLS.map(async (proto) => {
        const c = await clientOn(n2, proto);
        const sub = c.newSubscription(channel);
        const got = collect(sub, 'publication');
        const subscribedEvents = collect(sub, 'subscribed');
        const subscribing = collect(sub, 'subscribing');
        const p = waitEvent(sub, 'subscribed');
        sub.subscribe();
        await p;
        return { proto, c, sub, got, subscribedEvents, subscribing };
      }));
      await publish(n1, channel, { i: 1 });
      await until(() => results.every((r) => r.got.length === 1), { what: 'first publication on node 2' });

      relay.block();
      relay.drop();
      const acked = [];
      for (let i = 2; i <= 4; i++) acked.push(await publish(n1, channel, { i }));
      await sleep(300);
      relay.unblock();
      // No further publications: the node must notice the gap by itself
      // (Centrifugo checks positions every client_channel_position_check_delay, set to 1 s here).
      const waitedFrom = Date.now();
      const ok = (r) => r.got.length === 4 || r.subscribedEvents.some((e) => e.wasRecovering && !e.recovered);
      while (Date.now() - waitedFrom < 5000 && !results.every(ok)) await sleep(100);
      const silent = results.filter((r) => !ok(r)).map((r) => ({
        proto: r.proto, got: r.got.map((p) => dec(r.proto, p.data).i), subscribing: r.subscribing.map((e) => e.code), trace: traceOf(r.c),
      }));

      // The link itself is back: the next publication reveals the gap by
      // its offset, and the SDK recovers 2..5 from history.
      await publish(n1, channel, { i: 5 });
      for (const r of results) {
        await until(() => r.got.length >= 5, { timeout: 5000, what: `${r.proto}: recovery once publication 5 shows the gap; got ${JSON.stringify(r.got.map((p) => dec(r.proto, p.data).i))}` });
        assert.deepEqual(r.got.map((p) => dec(r.proto, p.data).i), [1, 2, 3, 4, 5], `${r.proto}: exactly once, in order`);
        assert.ok(r.subscribing.some((e) => e.code === 2500), `${r.proto}: resubscribed after insufficient state (2500): ${JSON.stringify(r.subscribing)}`);
      }

      assert.deepEqual(silent, [], `acknowledged publications 2..4 (offsets ${acked.map((a) => a.offset)}) were neither delivered nor `
        + 'reported within 5 s after node 2 got its Redis link back (position check delay 1 s)');
    } finally {
      closeClients();
      await Promise.all([n1.stop(), n2.stop()]);
      await relay.close();
      await redis.stop();
    }
  });

  test('a node killed: its clients move to another node; presence drops them after global_presence_ttl', T30, async () => {
    const redis = await startRedis();
    const nodes = await startNodes(3, redis.address);
    try {
      const channel = `chat:${uid('kill')}`;
      const survivors = [];
      const victims = [];
      for (const proto of PROTOCOLS) {
        const s = await clientOn(nodes[0], proto);
        await subscribed(s, channel);
        survivors.push(s);
        const v = await clientOn(nodes[2], proto);
        await subscribed(v, channel);
        victims.push(v);
      }
      await until(async () => Object.keys((await nodes[0].apiOK('presence', { channel })).presence).length === 4, { what: 'four present' });

      const dropped = victims.map((v) => waitEvent(v, 'connecting', { timeout: 5000, what: 'victim notices the dead node' }));
      await nodes[2].child.kill('SIGKILL');
      await nodes[2].exitPromise;
      await Promise.all(dropped);
      const killedAt = Date.now();

      // The victims' users come back through node 2.
      const movers = [];
      for (const [k, v] of victims.entries()) {
        v.disconnect();
        const m = await clientOn(nodes[1], PROTOCOLS[k], v.__user);
        await subscribed(m, channel);
        movers.push(m);
      }
      const want = [...survivors, ...movers].map((c) => c.__id).sort();
      const res = await until(async () => {
        const r = await nodes[0].apiOK('presence', { channel });
        return Object.keys(r.presence).sort().join() === want.join() ? r : null;
      }, { timeout: 10000, interval: 200, what: `presence without the dead node's clients (want ${want})` });
      const took = Date.now() - killedAt;
      assert.ok(took < 8000, `stale entries gone ${took} ms after the kill (ttl 3 s)`);
      assert.ok(!victims.some((v) => v.__id in res.presence));

      // Fan-out keeps working for everybody left.
      const arrivals = [...survivors, ...movers].map((c) => waitEvent(c.getSubscription(channel), 'publication'));
      await publish(nodes[1], channel, { after: 'kill' });
      await Promise.all(arrivals);

      // And info forgets the dead node (entries expire after three missed announcements).
      await until(async () => (await nodes[0].apiOK('info', {})).nodes.length === 2, { timeout: 15000, interval: 500, what: 'info with 2 nodes' });
    } finally {
      closeClients();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
    }
  });
});
