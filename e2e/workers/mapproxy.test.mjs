// Map proxies answered by real workers — the Node example (through the fault
// worker, which logs each event) and the plain-PHP example — behind
// `spindle app`, driven by the centrifuge SDK through `spindle server`: a
// namespace of map channels whose map.publish_proxy and map.remove_proxy name
// the app. Workers get the writes as "map_publish" and "map_remove"
// (spindle's names; RoadRunner's plugin has no map events); the examples
// rewrite the data of a write and refuse to remove keys that are not the
// user's own.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { T, PHP_WORKER, startStack, connected, nodeWorker, waitEvent, uid, pgrep } from './harness.mjs';

let php = 'php';
try { execFileSync(php, ['--version']); } catch { php = null; }

/** The server config of the map namespace, its proxies pointing at the app. */
const mapServer = ({ endpoint }) => ({
  proxies: [{ name: 'app', endpoint, timeout: '5s' }],
  map_broker: {},
  namespaces: [
    { name: 'private', proxy_subscribe: true, proxy_publish: true },
    {
      name: 'seats',
      subscription_type: 'map',
      allow_subscribe_for_client: true,
      map: {
        mode: 'persistent',
        publish_proxy_enabled: true,
        publish_proxy_name: 'app',
        remove_proxy_enabled: true,
        remove_proxy_name: 'app',
      },
    },
  ],
});

const workers = [
  { name: 'Node', tag: 'node', ...nodeWorker(), logsEvents: true },
  (() => {
    const marker = uid('phpw');
    // -d sets a harmless ini value so the marker shows on the command line.
    return { name: 'PHP', tag: 'php', command: [php, '-d', `error_log=/tmp/${marker}.log`, PHP_WORKER], marker, skip: php ? false : 'php-cli not installed' };
  })(),
];

for (const w of workers) {
  describe(`map proxies on the ${w.name} example worker`, { skip: w.skip }, () => {
    let stack;
    before(async () => { stack = await startStack({ command: w.command, server: mapServer }); });
    after(async () => {
      const exit = await stack?.close();
      assert.deepEqual(exit, { code: 0, signal: null }, 'spindle app stops cleanly on SIGTERM');
      assert.deepEqual(pgrep(w.marker), [], 'no worker outlives spindle app');
    });

    /** A connected client of user with a live map subscription to channel. */
    async function mapSubscriber(user, channel) {
      const c = stack.client({ data: { token: user } });
      await connected(c);
      const sub = c.newMapSubscription(channel);
      const subscribed = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await subscribed;
      return sub;
    }

    test('map_publish: the worker rewrites the data every subscriber gets', T, async () => {
      const ch = `seats:${uid('show')}`;
      const watcher = await mapSubscriber('gina', ch);
      const writer = await mapSubscriber('hugo', ch);
      const got = waitEvent(watcher, 'update', { filter: (u) => u.key === 'hugo:A1' });
      await writer.publish('hugo:A1', { seat: 'A1' });
      const u = await got;
      assert.deepEqual(u.data, { seat: 'A1', worker: w.tag });
      assert.notEqual(u.removed, true);
      if (w.logsEvents) await stack.app.waitOutput(`event map_publish user=hugo channel=${ch}`);
    });

    test('map_remove: refused with the worker\'s error, allowed for the user\'s own key', T, async () => {
      const ch = `seats:${uid('show')}`;
      const owner = await mapSubscriber('ivan', ch);
      const other = await mapSubscriber('judy', ch);
      const written = waitEvent(owner, 'update', { filter: (u) => u.key === 'ivan:B2' && !u.removed });
      await owner.publish('ivan:B2', { seat: 'B2' });
      await written;

      await assert.rejects(other.remove('ivan:B2'), (e) => e.code === 1403 && /own keys/.test(e.message));
      if (w.logsEvents) await stack.app.waitOutput(`event map_remove user=judy channel=${ch}`);

      const removed = waitEvent(other, 'update', { filter: (u) => u.key === 'ivan:B2' && u.removed });
      await owner.remove('ivan:B2');
      await removed;
    });
  });
}
