// The fault matrix (docs/reliability.md): backends and processes failing
// while clients are connected and a publish stream runs. For each fault the
// clients get the right codes, the other clients keep being served, and no
// publication the API acknowledged is lost silently — it is delivered, or
// the subscriber is told `recovered: false`.
//
// Rows: a proxy backend down, slow, answering garbage, answering too much;
// a worker crashing, hanging, writing garbage, crash-looping (spindle app
// with the Node fault worker); Redis killed and restarted during a publish
// stream; a node cut off from Redis; a node killed.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  PROTOCOLS, startServer, subscribed, closeClients, waitEvent, collect,
  sleep, uid, dec, until, traceOf, startRelay, freePort,
} from './helpers.mjs';
import { T30, HOOK, startRedis, startScriptedApp } from './procs.mjs';
import { nodeConfig, startNodes, clientOn, publish } from './cluster.mjs';
import { startWorkerApp } from './catalogue/topology.mjs';

/** An RPC that must fail: resolves {code, temporary, ms}; rejects if it succeeds. */
async function rpcFails(c, method, data = {}) {
  const t0 = Date.now();
  try {
    const r = await c.rpc(method, data);
    throw new Error(`rpc ${method} succeeded: ${JSON.stringify(r)}`);
  } catch (e) {
    if (e.code === undefined) throw e;
    return { code: e.code, temporary: !!e.temporary, ms: Date.now() - t0 };
  }
}

/** Asserts the fault's answer is the backend error: 100, temporary. */
function is100(got, what) {
  assert.equal(got.code, 100, `${what}: ${JSON.stringify(got)}`);
  assert.equal(got.temporary, true, `${what}: 100 must be temporary: ${JSON.stringify(got)}`);
}

describe('proxy backends and workers failing under a publish stream (two nodes on Redis)', () => {
  let redis; let nodes = []; let app; let scripted; let marker; let stream;
  let victim; let bystander;

  before(async () => {
    marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spindle-fm-')), 'crash-loop');
    redis = await startRedis();
    scripted = await startScriptedApp(async (event, req) => {
      if (event !== 'rpc') return { result: {} };
      switch (req.method.split(':')[1]) {
        case 'slow': await sleep(2500); return { result: { data: { late: true } } };
        case 'garbage': return { __grpcGarbage: true };
        case 'huge': return req.method.startsWith('ht:')
          ? { __http: { status: 200, body: `{"result":{"data":"${'a'.repeat(33 << 20)}"}}` } }
          : { result: { data: 'a'.repeat(5 << 20) } };
        default: return { result: { data: { ok: true } } };
      }
    });
    const appPort = await freePort();
    const downPort = await freePort();
    const proxies = {
      granular_proxy_mode: true,
      proxies: [
        { name: 'worker', endpoint: `grpc://127.0.0.1:${appPort}`, timeout: '1500ms' },
        { name: 'scripted', endpoint: scripted.grpcEndpoint, timeout: '1s' },
        { name: 'scripted-http', endpoint: scripted.httpEndpoint('rpc'), timeout: '1s' },
        { name: 'down', endpoint: `grpc://127.0.0.1:${downPort}`, timeout: '1s' },
      ],
      rpc_proxy_name: 'worker',
      rpc_namespaces: [
        { name: 'sc', rpc_proxy_name: 'scripted' },
        { name: 'ht', rpc_proxy_name: 'scripted-http' },
        { name: 'down', rpc_proxy_name: 'down' },
      ],
    };
    // Both are kept even when the other fails, so after() stops them.
    const [a, n] = await Promise.allSettled([
      startWorkerApp({ appPort, apiPort: await freePort(), workerArgs: [`--exit-at-start-if=${marker}`] }),
      startNodes(2, redis.address, proxies),
    ]);
    app = a.value;
    nodes = n.value || [];
    for (const r of [a, n]) if (r.status === 'rejected') throw r.reason;
    victim = await clientOn(nodes[0], 'json');
    bystander = await clientOn(nodes[1], 'protobuf');
    stream = await startStream(nodes);
  }, { timeout: 40000 });

  after(async () => {
    stream?.stop();
    closeClients();
    await Promise.allSettled([...nodes.map((n) => n.stop()), app?.stop(), scripted?.close()]);
    await redis?.stop();
    if (marker) fs.rmSync(path.dirname(marker), { recursive: true, force: true });
  }, HOOK);

  /** While `fault` is pending, the bystander on the other node is served. */
  async function servedMeanwhile(fault) {
    const pending = fault();
    const t0 = Date.now();
    const r = await bystander.rpc('sc:ok', new TextEncoder().encode('{}'));
    const bystanderMs = Date.now() - t0;
    assert.deepEqual(dec('protobuf', r.data), { ok: true }, 'the bystander is answered');
    return { got: await pending, bystanderMs };
  }

  test('backend down (nothing listens): error 100 temporary at once; others served', T30, async () => {
    const { got } = await servedMeanwhile(() => rpcFails(victim, 'down:x'));
    is100(got, 'down backend');
    assert.ok(got.ms < 1000, `refused connection answered in ${got.ms} ms, not at the timeout`);
  });

  test('backend slower than its 1 s timeout: 100 at the timeout; the bystander is answered before it', T30, async () => {
    const { got, bystanderMs } = await servedMeanwhile(() => rpcFails(victim, 'sc:slow'));
    is100(got, 'slow backend');
    assert.ok(got.ms >= 900 && got.ms < 2400, `failed after ${got.ms} ms (timeout 1 s, backend 2.5 s)`);
    assert.ok(bystanderMs < got.ms, `bystander answered in ${bystanderMs} ms, before the slow call failed (${got.ms} ms)`);
  });

  test('backend answers bytes that are no gRPC message: 100 temporary; others served', T30, async () => {
    is100((await servedMeanwhile(() => rpcFails(victim, 'sc:garbage'))).got, 'garbage');
  });

  test('backend answers too much (5 MiB over gRPC, 33 MiB over HTTP): 100 temporary; others served', T30, async () => {
    is100((await servedMeanwhile(() => rpcFails(victim, 'sc:huge'))).got, 'gRPC 5 MiB');
    is100((await servedMeanwhile(() => rpcFails(victim, 'ht:huge'))).got, 'HTTP 33 MiB');
  });

  /** The worker's pid, by the fault worker's pid method. */
  const workerPid = async (c) => (await c.rpc('pid', {})).data.pid;

  for (const fault of ['crash', 'hang', 'garbage']) {
    test(`worker ${fault}: 100 temporary for that call, a fresh worker answers the next`, T30, async () => {
      const before = await workerPid(victim);
      const { got } = await servedMeanwhile(() => rpcFails(victim, fault));
      is100(got, `worker ${fault}`);
      const pid = await until(async () => {
        try { const p = await workerPid(victim); return p !== before ? p : null; } catch { return null; }
      }, { timeout: 10000, interval: 200, what: `a new worker after ${fault}` });
      assert.notEqual(pid, before);
    });
  }

  test('worker crash loop: /ready 503 and calls fail fast with 100; once workers start again, served', T30, async () => {
    fs.writeFileSync(marker, 'loop');
    try {
      is100(await rpcFails(victim, 'crash'), 'the crash that starts the loop');
      await until(async () => (await fetch(`${app.statusURL}/ready`)).status === 503, { timeout: 8000, interval: 100, what: '/ready 503 during the crash loop' });
      const during = await rpcFails(victim, 'pid');
      is100(during, 'a call during the crash loop');
      assert.ok(during.ms < 3000, `answered in ${during.ms} ms`);
      const metrics = await (await fetch(`${app.statusURL}/metrics`)).text();
      assert.match(metrics, /spindle_app_worker_consecutive_failures [1-9]/, 'the metric counts the failures');
    } finally {
      fs.rmSync(marker, { force: true });
    }
    const t0 = Date.now();
    await until(async () => (await fetch(`${app.statusURL}/ready`)).status === 200, { timeout: 20000, interval: 100, what: `/ready 200 after the loop\n${app.tail(20)}` });
    if (process.env.E2E_DEBUG) console.error(`ready again ${Date.now() - t0} ms after the loop ended`);
    assert.ok(await workerPid(victim) > 0);
  });

  test('through every fault above: each acknowledged publication was delivered to both subscribers', T30, async () => {
    const r = await stream.finish();
    assert.ok(r.acked > 50, `acknowledged ${r.acked}`);
    for (const s of r.subs) assert.deepEqual(s.missing, [], `${s.proto} subscriber on node ${s.node} missed publications (told recovered:false: ${s.told})`);
  });
});

/**
 * A publish stream through node 0's API every 50 ms, into a channel with
 * history that a JSON subscriber on node 0 and a Protobuf one on node 1
 * follow with recovery.
 */
async function startStream(nodes) {
  const channel = `rec:${uid('matrix')}`;
  const subs = [];
  for (const [i, proto] of PROTOCOLS.entries()) {
    const c = await clientOn(nodes[i], proto);
    const [sub] = await subscribed(c, channel);
    const seen = new Set();
    const told = [];
    sub.on('publication', (ctx) => seen.add(dec(proto, ctx.data).i));
    sub.on('subscribed', (ctx) => { if (ctx.wasRecovering && !ctx.recovered) told.push(Date.now()); });
    subs.push({ proto, node: i, seen, told });
  }
  const acked = [];
  let stopped = false; let n = 0;
  const loop = (async () => {
    while (!stopped) {
      const i = ++n;
      const r = await nodes[0].api('publish', { channel, data: { i } }).catch(() => null);
      if (r?.status === 200 && !r.json?.error) acked.push({ i, t: Date.now() });
      await sleep(50);
    }
  })();
  const report = () => subs.map((s) => ({
    proto: s.proto, node: s.node, told: s.told.length,
    // Missing and not covered by a later recovered:false.
    missing: acked.filter((a) => !s.seen.has(a.i) && !s.told.some((t) => t >= a.t)).map((a) => a.i),
  }));
  return {
    stop() { stopped = true; },
    async finish() {
      stopped = true;
      await loop;
      await until(() => report().every((s) => s.missing.length === 0), { timeout: 5000, what: 'stream catch-up' }).catch(() => {});
      return { acked: acked.length, subs: report() };
    },
  };
}

// ---------------------------------------------------------------------------
// Redis and node faults (the engine under the publish stream).

describe('Redis and node faults', () => {
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
