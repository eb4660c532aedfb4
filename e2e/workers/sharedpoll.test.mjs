// Shared poll answered by real workers — the Node example (through the
// fault worker, which logs each event) and the plain-PHP example — behind
// `spindle app`, driven by the centrifuge SDK through `spindle server`: the
// server polls the app (SharedPollRefresh, which workers get as
// "shared_poll_refresh", spindle's name: RoadRunner's plugin has none) for
// the keys a subscriber tracks, and the subscriber gets each key's value.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

import { T, PHP_WORKER, startStack, connected, nodeWorker, waitEvent, uid, pgrep } from './harness.mjs';

let php = 'php';
try { execFileSync(php, ['--version']); } catch { php = null; }

const POLL_SECRET = crypto.randomBytes(32).toString('hex');

/** The server config of a shared-poll namespace whose refresh proxy is the app. */
const pollServer = ({ endpoint }) => ({
  proxies: [{ name: 'app', endpoint, timeout: '5s' }],
  shared_poll: { hmac_secret_key: POLL_SECRET },
  namespaces: [
    { name: 'private', proxy_subscribe: true, proxy_publish: true },
    {
      name: 'scores', subscription_type: 'shared_poll', allow_subscribe_for_client: true,
      shared_poll: { proxy_name: 'app', mode: 'versioned', refresh_interval: '300ms' },
    },
  ],
});

/** The application's track signature (the recipe every backend implements). */
function sign(user, channel, keys) {
  const iat = String(Math.floor(Date.now() / 1000));
  const exp = String(Math.floor(Date.now() / 1000) + 3600);
  const keysHash = crypto.createHash('sha256').update(keys.join('\0')).digest('hex');
  const mac = crypto.createHmac('sha256', POLL_SECRET).update([iat, exp, user, channel, keysHash].join('\0')).digest('hex');
  return `${iat}:${exp}:${mac}`;
}

const workers = [
  { name: 'Node', tag: 'node', ...nodeWorker(), logsEvents: true },
  (() => {
    const marker = uid('phpw');
    return { name: 'PHP', tag: 'php', command: [php, '-d', `error_log=/tmp/${marker}.log`, PHP_WORKER], marker, skip: php ? false : 'php-cli not installed' };
  })(),
];

for (const w of workers) {
  describe(`shared poll on the ${w.name} example worker`, { skip: w.skip }, () => {
    let stack;
    before(async () => { stack = await startStack({ command: w.command, server: pollServer }); });
    after(async () => {
      const exit = await stack?.close();
      assert.deepEqual(exit, { code: 0, signal: null }, 'spindle app stops cleanly on SIGTERM');
      assert.deepEqual(pgrep(w.marker), [], 'no worker outlives spindle app');
    });

    test('shared_poll_refresh: the worker answers the tracked keys, the subscriber gets each once', T, async () => {
      const ch = `scores:${uid('today')}`;
      const user = uid('fan');
      const c = stack.client({ data: { token: user } });
      await connected(c);
      const sub = c.newSharedPollSubscription(ch, { getSignature: async ({ keys }) => ({ keys, signature: sign(user, ch, keys) }) });
      const updates = [];
      sub.on('update', (u) => updates.push(u));
      const subscribed = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await subscribed;
      sub.track(['match-7', 'match-42']);
      const deadline = Date.now() + 5000;
      while (updates.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.deepEqual(updates.map((u) => [u.key, u.data, u.version]).sort(), [
        ['match-42', { key: 'match-42', score: 42 }, 1],
        ['match-7', { key: 'match-7', score: 7 }, 1],
      ]);
      // Version 1 stays version 1: later polls push nothing more.
      await new Promise((r) => setTimeout(r, 900));
      assert.equal(updates.length, 2);
      if (w.logsEvents) await stack.app.waitOutput(`event shared_poll_refresh`);
    });
  });
}
