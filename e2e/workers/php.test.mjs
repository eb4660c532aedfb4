// The plain-PHP example worker (examples/workers/php/worker.php) behind
// `spindle app`: connect, subscribe, publish, rpc and a publish through
// rpc.listen, over pipes and over a unix-socket relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

import { T, PHP_WORKER, startStack, connected, waitEvent, uid, pgrep } from './harness.mjs';

let php = 'php';
try { execFileSync(php, ['--version']); } catch { php = null; }

for (const relay of ['pipes', 'unix']) {
  test(`PHP worker over ${relay}: every answer comes from worker.php`, { ...T, skip: php ? false : 'php-cli not installed' }, async () => {
    const marker = uid('phpw');
    const relayDSN = relay === 'pipes' ? 'pipes' : `unix://${path.join(os.tmpdir(), `${marker}.sock`)}`;
    // -d sets a harmless ini value so the marker shows on the command line.
    const stack = await startStack({ command: [php, '-d', `error_log=/tmp/${marker}.log`, PHP_WORKER], relay: relayDSN });
    try {
      assert.ok(pgrep(marker).length >= 1, 'worker running');
      const c = stack.client({ data: { token: 'paula' } });
      await connected(c);
      assert.deepEqual((await c.rpc('whoami', {})).data.user, 'paula');
      assert.deepEqual((await c.rpc('echo', { a: 1 })).data, { a: 1 });
      await assert.rejects(c.rpc('nope', {}), (e) => e.code === 104);

      const ch = uid('php');
      const sub = c.newSubscription(ch);
      const subscribed = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await subscribed;
      const priv = c.newSubscription(`private:${uid()}`);
      const denied = waitEvent(priv, 'unsubscribed');
      priv.subscribe();
      assert.equal((await denied).code, 103);

      let got = waitEvent(sub, 'publication');
      await sub.publish({ text: 'hi' });
      assert.deepEqual((await got).data, { text: 'hi', worker: 'php' });

      got = waitEvent(sub, 'publication');
      const r = await c.rpc('shout', { channel: ch, text: 'from php' });
      assert.equal(r.data.published, true);
      assert.deepEqual((await got).data, { text: 'from php', from: 'paula' });
    } finally {
      const exit = await stack.close();
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.deepEqual(pgrep(marker), [], 'no PHP worker left');
    }
  });
}
