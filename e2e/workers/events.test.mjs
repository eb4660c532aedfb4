// Every proxied event type answered by a real Node worker (the example in
// examples/workers/node) behind `spindle app`, driven by the centrifuge SDK
// through `spindle server`; and a worker publishing through rpc.listen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { T, startStack, connected, nodeWorker, waitEvent, uid, pgrep } from './harness.mjs';

let stack;
const worker = nodeWorker();
before(async () => { stack = await startStack({ command: worker.command }); });
after(async () => {
  const exit = await stack?.close();
  assert.deepEqual(exit, { code: 0, signal: null }, 'spindle app stops cleanly on SIGTERM');
  assert.deepEqual(pgrep(worker.marker), [], 'no worker outlives spindle app');
});

test('connect: the worker picks the user from the connect data', T, async () => {
  const c = stack.client({ data: { token: 'alice' } });
  await connected(c);
  const r = await c.rpc('whoami', {});
  assert.equal(r.data.user, 'alice');
  assert.ok(r.data.client, 'client id passed to the worker');
  await stack.app.waitOutput('event connect');
});

test('subscribe: allowed with the worker\'s info, private: channels denied', T, async () => {
  const c = stack.client({ data: { token: 'bob' } });
  await connected(c);
  const ch = uid('news');
  const sub = c.newSubscription(ch);
  const ok = waitEvent(sub, 'subscribed');
  sub.subscribe();
  await ok;
  const priv = c.newSubscription(`private:${uid()}`);
  // A permanent subscribe error ends in "unsubscribed" with the code.
  const denied = waitEvent(priv, 'unsubscribed');
  priv.subscribe();
  const e = await denied;
  assert.equal(e.code, 103);
});

test('publish: the worker rewrites the data; rpc: echo and unknown method', T, async () => {
  const c = stack.client({ data: { token: 'carol' } });
  await connected(c);
  const ch = uid('room');
  const sub = c.newSubscription(ch);
  const subscribed = waitEvent(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  const got = waitEvent(sub, 'publication');
  await sub.publish({ text: 'hi' });
  const pub = await got;
  assert.deepEqual(pub.data, { text: 'hi', worker: 'node' });

  assert.deepEqual((await c.rpc('echo', { n: [1, 2] })).data, { n: [1, 2] });
  await assert.rejects(c.rpc('nope', {}), (e) => e.code === 104);
});

test('refresh and subrefresh: expiring connection and subscription are prolonged by the worker', T, async () => {
  const c = stack.client({ data: { token: 'dave', ttl: 2 } });
  const disconnected = [];
  c.on('disconnected', (ctx) => disconnected.push(ctx));
  await connected(c);
  const sub = c.newSubscription(uid('exp'), { data: { ttl: 2 } });
  const unsubscribed = [];
  sub.on('unsubscribed', (ctx) => unsubscribed.push(ctx));
  const subscribed = waitEvent(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  await stack.app.waitOutput('event refresh user=dave', 8000);
  await stack.app.waitOutput('event subrefresh user=dave', 8000);
  assert.deepEqual(disconnected, [], 'connection survived its expiry');
  assert.deepEqual(unsubscribed, [], 'subscription survived its expiry');
  assert.equal(c.state, 'connected');
  assert.equal((await c.rpc('whoami', {})).data.user, 'dave');
});

test('shout: the worker publishes through rpc.listen (centrifuge.Publish) and clients receive it', T, async () => {
  const listener = stack.client({ data: { token: 'erin' } });
  await connected(listener);
  const ch = uid('shout');
  const sub = listener.newSubscription(ch);
  const subscribed = waitEvent(sub, 'subscribed');
  sub.subscribe();
  await subscribed;

  const speaker = stack.client({ data: { token: 'frank' } });
  await connected(speaker);
  const got = waitEvent(sub, 'publication');
  const r = await speaker.rpc('shout', { channel: ch, text: 'hello all' });
  assert.equal(r.data.published, true);
  const pub = await got;
  assert.deepEqual(pub.data, { text: 'hello all', from: 'frank' });
});

test('informer over rpc.listen: `spindle app workers` lists the worker', T, async () => {
  const { execFileSync } = await import('node:child_process');
  const { SPINDLE_BIN } = await import('./harness.mjs');
  const out = execFileSync(SPINDLE_BIN, ['app', 'workers', '-c', stack.app.config], { encoding: 'utf8', timeout: 10000 });
  assert.match(out, /PID\s+STATUS/);
  assert.match(out, /\d+\s+(ready|working)\s+\d+/);
});
