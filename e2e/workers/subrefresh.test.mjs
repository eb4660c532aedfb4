// Subscription refresh reaches PHP workers under the type name their SDK
// understands: roadrunner-php/centrifugo 2.x (what users install today)
// only knows "sub_refresh", its development line and RoadRunner "subrefresh".
// The worker here accepts exactly one spelling and leaves the other
// unanswered, as those SDKs do; centrifuge.sub_refresh_type picks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { T, startStack, connected, nodeWorker, waitEvent, uid } from './harness.mjs';

for (const c of [
  { sdk: 'roadrunner-php/centrifugo 2.x', spelling: 'sub_refresh', centrifuge: { sub_refresh_type: 'sub_refresh' } },
  { sdk: 'its development line (and RoadRunner), the default', spelling: 'subrefresh', centrifuge: {} },
]) {
  test(`subscription refresh for ${c.sdk}: the worker gets "${c.spelling}" and prolongs the subscription`, T, async () => {
    const w = nodeWorker(`--subrefresh-type=${c.spelling}`);
    const stack = await startStack({ command: w.command, centrifuge: c.centrifuge });
    try {
      const client = stack.client({ data: { token: 'gail' } });
      await connected(client);
      const sub = client.newSubscription(uid('exp'), { data: { ttl: 2 } });
      const unsubscribed = [];
      sub.on('unsubscribed', (ctx) => unsubscribed.push(ctx));
      const subscribed = waitEvent(sub, 'subscribed');
      sub.subscribe();
      await subscribed;
      await stack.app.waitOutput('event subrefresh user=gail', 8000);
      assert.doesNotMatch(stack.app.output, /is not supported/, 'the worker understood the type it got');
      assert.deepEqual(unsubscribed, [], 'the subscription survived its expiry');
    } finally {
      await stack.close();
    }
  });
}

test('a released-SDK worker without the key is told "subrefresh" and cannot answer: spindle app says which key fixes it', T, async () => {
  const w = nodeWorker('--subrefresh-type=sub_refresh');
  const stack = await startStack({ command: w.command });
  try {
    const client = stack.client({ data: { token: 'hank' } });
    await connected(client);
    const sub = client.newSubscription(uid('exp'), { data: { ttl: 2 } });
    const subscribed = waitEvent(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    await stack.app.waitOutput('request type subrefresh is not supported', 8000);
    // spindle app says what to change, once.
    await stack.app.waitOutput('set centrifuge.sub_refresh_type: sub_refresh', 8000);
  } finally {
    await stack.close();
  }
});
