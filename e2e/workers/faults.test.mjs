// Misbehaving workers behind `spindle app`: each fault gives the client a
// prompt error, the worker is replaced, and the next call succeeds. Also:
// a worker that cannot start, memory limits, a full queue, and stopping the
// app under load.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, startStack, startApp, connected, nodeWorker, freePort, pgrep, sleep, until } from './harness.mjs';

async function withStack(opts, fn) {
  const w = nodeWorker(...(opts.flags || []));
  const stack = await startStack({ command: w.command, ...opts });
  try {
    await fn(stack, w);
  } finally {
    const exit = await stack.close();
    assert.deepEqual(exit, { code: 0, signal: null }, `spindle app exit\n${stack.app.output.slice(-3000)}`);
    assert.deepEqual(pgrep(w.marker), [], 'no worker left behind');
  }
}

const pidOf = async (c) => (await c.rpc('pid', {})).data.pid;

for (const fault of [
  { method: 'crash', log: 'worker crashed' },
  { method: 'garbage', log: 'wrote garbage instead of a goridge frame' },
]) {
  test(`${fault.method}: temporary error at once, worker replaced, a fresh worker answers`, T, async () => {
    await withStack({}, async (stack) => {
      const c = stack.client();
      await connected(c);
      const before = await pidOf(c);
      const start = Date.now();
      await assert.rejects(c.rpc(fault.method, {}), (e) => e.code === 100);
      assert.ok(Date.now() - start < 900, `answered in ${Date.now() - start} ms, before the 1 s proxy timeout`);
      await stack.app.waitOutput(fault.log);
      // The replacement boots after the fault is logged; on a loaded machine
      // that can take longer than the 1 s proxy timeout, so the first call
      // may still time out. What must hold: a fresh worker answers soon.
      const after = await until(async () => { try { return await pidOf(c); } catch { return 0; } }, { what: 'a replacement worker' });
      assert.notEqual(after, before, 'a fresh worker answers');
    });
  });
}

test('hang: error within the proxy timeout, the hung worker is killed and replaced', T, async () => {
  await withStack({ timeout: '1s' }, async (stack) => {
    const c = stack.client();
    await connected(c);
    const before = await pidOf(c);
    const start = Date.now();
    await assert.rejects(c.rpc('hang', {}), (e) => typeof e.code === 'number');
    const took = Date.now() - start;
    assert.ok(took >= 900 && took < 2500, `hang answered after ${took} ms (proxy timeout 1 s)`);
    await stack.app.waitOutput(/killed mid-request|gave no reply within .* and was killed/);
    const after = await until(async () => { try { return await pidOf(c); } catch { return 0; } }, { what: 'a replacement worker' });
    assert.notEqual(after, before);
    assert.throws(() => process.kill(before, 0), 'the hung worker is gone');
  });
});

test('exit at start: spindle app refuses to start and says why', T, async () => {
  const w = nodeWorker('--exit-at-start');
  const app = await startApp({ appPort: await freePort(), apiPort: await freePort(), command: w.command, expectFailure: true });
  const exit = await Promise.race([app.exited, sleep(10000).then(() => null)]);
  assert.ok(exit, 'spindle app exited');
  assert.notEqual(exit.code, 0);
  assert.match(app.output, /server\.command .*starting worker pool/);
  assert.match(app.output, /exiting at start as asked/);
  assert.deepEqual(pgrep(w.marker), []);
});

test('memory: a worker past max_worker_memory is retired after its request and replaced', T, async () => {
  const pool = { supervisor: { max_worker_memory: 100, watch_tick: '200ms' } };
  // Filling 160 MB can take longer than the default 1 s proxy timeout on a
  // loaded 2-core machine; the timeout is not what this test is about.
  await withStack({ pool, timeout: '5s' }, async (stack) => {
    const c = stack.client();
    await connected(c);
    const before = await pidOf(c);
    const r = await c.rpc('leak', { mb: 160 });
    assert.equal(r.data.pid, before, 'the leaking request itself completes');
    const after = await until(async () => {
      try { const p = await pidOf(c); return p !== before && p; } catch { return false; }
    }, { timeout: 8000, what: 'the leaking worker to be replaced' });
    assert.ok(after);
    await stack.app.waitOutput('maxMemoryReached');
    await until(() => { try { process.kill(before, 0); return false; } catch { return true; } }, { what: 'old worker exit' });
  });
});

test('queue: max_queue_size rejects the overflow at once with a clear log line', T, async () => {
  const pool = { num_workers: 1, max_queue_size: 1 };
  await withStack({ pool, timeout: '5s' }, async (stack) => {
    const clients = [stack.client(), stack.client(), stack.client()];
    await Promise.all(clients.map((c) => connected(c)));
    const started = Date.now();
    const results = await Promise.allSettled(clients.map(async (c, i) => {
      await sleep(i * 100); // one running, one queued, then one too many
      const r = await c.rpc('sleep', { ms: 1000 });
      return { took: Date.now() - started, r };
    }));
    const ok = results.filter((x) => x.status === 'fulfilled');
    const failed = results.filter((x) => x.status === 'rejected');
    assert.equal(ok.length, 2, JSON.stringify(results));
    assert.equal(failed.length, 1);
    assert.equal(failed[0].reason.code, 100);
    assert.equal(failed[0].reason.temporary, true);
    await stack.app.waitOutput('pool.max_queue_size');
  });
});

test('stop under load: no client call hangs, every worker exits', T, async () => {
  const w = nodeWorker();
  const stack = await startStack({ command: w.command, pool: { num_workers: 2, destroy_timeout: '5s' }, timeout: '3s' });
  const clients = Array.from({ length: 4 }, () => stack.client());
  await Promise.all(clients.map((c) => connected(c)));
  assert.equal(pgrep(w.marker).length, 2);
  let running = true;
  const stats = { ok: 0, failed: 0 };
  const loops = clients.map(async (c) => {
    while (running) {
      try {
        await c.rpc('sleep', { ms: 150 });
        stats.ok++;
      } catch {
        stats.failed++;
        await sleep(50);
      }
    }
  });
  await sleep(600);
  const stopAt = Date.now();
  const exit = await stack.app.stop(10000);
  assert.deepEqual(exit, { code: 0, signal: null }, stack.app.output.slice(-3000));
  assert.ok(Date.now() - stopAt < 6000, `app stopped in ${Date.now() - stopAt} ms`);
  assert.deepEqual(pgrep(w.marker), [], 'workers exited with the app');
  running = false;
  // Every loop's pending call settles: answered, or failed by the server's proxy timeout at worst.
  await Promise.race([Promise.all(loops), sleep(5000).then(() => { throw new Error('a client call is stuck'); })]);
  assert.ok(stats.ok >= 2, `calls served before the stop: ${JSON.stringify(stats)}`);
  await stack.close();
});
