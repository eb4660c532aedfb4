// Less central features that real apps lean on: mixed JSON/protobuf channels,
// tags, fan-out under load, SDK "since" positioning, personal channels,
// connection limits, and the API's refresh/channels/history_remove/rpc.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, enc, dec, until, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const API_KEY = 'e2e-api-' + uid();

let server;
before(async () => {
  server = await startServer({
    token_hmac_secret_key: SECRET,
    api_key: API_KEY,
    client_user_connection_limit: 2,
    client_channel_limit: 60,
    user_subscribe_to_personal: true,
    allow_subscribe_for_client: true,
    namespaces: [
      { name: 'mix', allow_subscribe_for_client: true, allow_publish_for_subscriber: true },
      { name: 'dm', allow_user_limited_channels: true },
      { name: 'rec', allow_subscribe_for_client: true, history_size: 100, history_ttl: '300s', force_recovery: true, allow_history_for_subscriber: true },
    ],
  });
});
after(() => server?.stop());
afterEach(() => closeClients());

const token = (user) => signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET });

async function client(proto, user = uid('u')) {
  const c = newClient(server, proto, { token: token(user) });
  const ctx = await connected(c);
  return { c, id: ctx.client, user };
}

describe('mixed wire formats in one channel', () => {
  test('JSON publisher → protobuf subscriber and back carry the same payload', T, async () => {
    const channel = `mix:${uid('m')}`;
    const j = await client('json');
    const p = await client('protobuf');
    const [[js], [ps]] = await Promise.all([subscribed(j.c, channel), subscribed(p.c, channel)]);
    const atPB = waitEvent(ps, 'publication');
    await js.publish({ from: 'json', n: [1, 2] });
    assert.deepEqual(dec('protobuf', (await atPB).data), { from: 'json', n: [1, 2] });
    const atJSON = waitEvent(js, 'publication', { filter: (ctx) => ctx.data?.from === 'pb' });
    await ps.publish(enc('protobuf', { from: 'pb' }));
    assert.deepEqual((await atJSON).data, { from: 'pb' });
  });

  test('non-JSON bytes published by a protobuf client → JSON subscriber disconnected 3506', T, async () => {
    const channel = `mix:${uid('m')}`;
    const j = await client('json');
    const p = await client('protobuf');
    const [[, ], [ps]] = await Promise.all([subscribed(j.c, channel), subscribed(p.c, channel)]);
    const gone = waitEvent(j.c, 'disconnected', { what: 'JSON client disconnected for binary payload' });
    const pbGot = waitEvent(ps, 'publication');
    await ps.publish(new Uint8Array([0xff, 0x00, 0x01]));
    assert.deepEqual([...(await pbGot).data], [0xff, 0x00, 0x01], 'protobuf subscribers get raw bytes');
    assert.equal((await gone).code, 3506, `trace: ${traceOf(j.c)}`);
  });
});

for (const proto of PROTOCOLS) {
  describe(`${proto}: publications`, () => {
    test('API publish tags reach the SDK', T, async () => {
      const channel = `mix:${uid('t')}`;
      const a = await client(proto);
      const [sub] = await subscribed(a.c, channel);
      const p = waitEvent(sub, 'publication');
      await server.apiOK('publish', { channel, data: { x: 1 }, tags: { kind: 'update', id: '42' } });
      assert.deepEqual((await p).tags, { kind: 'update', id: '42' });
    });

    test('fan-out: 20 subscribers × 100 API publications, each gets all in order', T, async () => {
      const channel = `mix:${uid('fan')}`;
      const clients = await Promise.all(Array.from({ length: 20 }, () => client(proto)));
      const subs = await Promise.all(clients.map((x) => subscribed(x.c, channel).then(([s]) => s)));
      const logs = subs.map((s) => collect(s, 'publication'));
      const N = 100;
      await server.apiOK('batch', { commands: Array.from({ length: N }, (_, i) => ({ publish: { channel, data: { i } } })) });
      await until(() => logs.every((l) => l.length >= N), { timeout: 8000, what: `all subscribers to get ${N} (have ${logs.map((l) => l.length).join(',')})` });
      await sleep(200);
      for (const l of logs) assert.deepEqual(l.map((p) => dec(proto, p.data).i), Array.from({ length: N }, (_, i) => i));
    });

    test('skip_history publishes live but keeps nothing', T, async () => {
      const channel = `rec:${uid('s')}`;
      const a = await client(proto);
      const [sub] = await subscribed(a.c, channel);
      const p = waitEvent(sub, 'publication');
      const r = await server.apiOK('publish', { channel, data: { ephemeral: true }, skip_history: true });
      await p;
      assert.ok(!r.offset, `no offset for skip_history: ${JSON.stringify(r)}`);
      const h = await sub.history({ limit: 10 });
      assert.equal(h.publications.length, 0);
    });
  });

  describe(`${proto}: positioning from the SDK`, () => {
    test('subscribe with since {offset, epoch} replays what came after it', T, async () => {
      const channel = `rec:${uid('since')}`;
      const rs = [];
      for (let i = 1; i <= 6; i++) rs.push(await server.apiOK('publish', { channel, data: { i } }));
      const a = await client(proto);
      const sub = a.c.newSubscription(channel, { since: { offset: 4, epoch: rs[0].epoch } });
      const got = collect(sub, 'publication');
      const p = waitEvent(sub, 'subscribed');
      sub.subscribe();
      const ctx = await p;
      assert.equal(ctx.recovered, true, JSON.stringify(ctx));
      assert.equal(ctx.wasRecovering, true, JSON.stringify(ctx));
      await until(() => got.length >= 2);
      await sleep(200);
      assert.deepEqual(got.map((x) => dec(proto, x.data).i), [5, 6]);
    });
  });

  describe(`${proto}: users`, () => {
    test('user_subscribe_to_personal: publications to #<user> reach every connection of the user', T, async () => {
      const user = uid('me');
      const personal = `#${user}`;
      const a = newClient(server, proto, { token: token(user) });
      const subP = waitEvent(a, 'subscribed', { filter: (ctx) => ctx.channel === personal, what: 'personal channel subscribed' });
      await connected(a);
      await subP;
      const pub = waitEvent(a, 'publication', { filter: (ctx) => ctx.channel === personal });
      await server.apiOK('publish', { channel: personal, data: { dm: 'hi' } });
      assert.deepEqual(dec(proto, (await pub).data), { dm: 'hi' });
    });

    test('client_user_connection_limit 2: third connection of the user → 3504', T, async () => {
      const user = uid('lim');
      await client(proto, user);
      await client(proto, user);
      const third = newClient(server, proto, { token: token(user) });
      const p = waitEvent(third, 'disconnected');
      third.connect();
      assert.equal((await p).code, 3504, `trace: ${traceOf(third)}`);
    });

    test('rpc without an RPC proxy → error 108', T, async () => {
      const a = await client(proto);
      await assert.rejects(a.c.rpc('anything', enc(proto, {})), (e) => e.code === 108);
      assert.equal(a.c.state, 'connected');
    });
  });

  describe(`${proto}: channel rules`, () => {
    test('50 subscriptions batched with the connect command all succeed', T, async () => {
      const c = newClient(server, proto, { token: token(uid('batch')) });
      const subs = Array.from({ length: 50 }, (_, i) => c.newSubscription(`mix:${uid('b')}${i}`));
      const done = subs.map((s) => waitEvent(s, 'subscribed', { what: s.channel }));
      for (const s of subs) s.subscribe();
      c.connect();
      await Promise.all(done);
    });

    test('client_channel_limit 60 counts the personal server-side sub: the 60th client subscribe → 106', T, async () => {
      const a = await client(proto);
      for (let i = 0; i < 59; i++) a.c.newSubscription(`mix:${uid('l')}`).subscribe();
      await until(() => Object.values(a.c.subscriptions()).every((s) => s.state === 'subscribed'), { what: '59 subscriptions' });
      const extra = a.c.newSubscription(`mix:${uid('l')}`);
      const p = waitEvent(extra, 'unsubscribed');
      extra.subscribe();
      assert.equal((await p).code, 106);
    });

    test('channel names: > 255 bytes → 107, non-ASCII without channel_regex → 107', T, async () => {
      const a = await client(proto);
      for (const name of [`mix:${'x'.repeat(260)}`, 'mix:kanał']) {
        const sub = a.c.newSubscription(name);
        const p = waitEvent(sub, 'unsubscribed', { what: name.slice(0, 20) });
        sub.subscribe();
        assert.equal((await p).code, 107, name.slice(0, 20));
      }
    });

    test('user-limited channel: listed users may subscribe, others get 103', T, async () => {
      const u1 = await client(proto, uid('u1'));
      const u2 = await client(proto, uid('u2'));
      const channel = `dm:${uid('room')}#${u1.user},${uid('absent')}`;
      await subscribed(u1.c, channel);
      const sub = u2.c.newSubscription(channel);
      const p = waitEvent(sub, 'unsubscribed');
      sub.subscribe();
      assert.equal((await p).code, 103);
    });
  });

  describe(`${proto}: server API on live connections`, () => {
    test('refresh with expired:true → disconnect 3005 and the SDK reconnects', T, async () => {
      const a = await client(proto);
      const p = waitEvent(a.c, 'connecting');
      await server.apiOK('refresh', { user: a.user, expired: true });
      assert.equal((await p).code, 3005, `trace: ${traceOf(a.c)}`);
      await waitEvent(a.c, 'connected');
    });

    test('channels lists active channels with client counts', T, async () => {
      const channel = `mix:${uid('ch')}`;
      const a = await client(proto);
      const b = await client(proto);
      await subscribed(a.c, channel);
      await subscribed(b.c, channel);
      const r = await server.apiOK('channels', { pattern: 'mix:*' });
      assert.equal(r.channels?.[channel]?.num_clients, 2, JSON.stringify(r));
    });

    test('history_remove empties history but keeps the stream position', T, async () => {
      const channel = `rec:${uid('hr')}`;
      await server.apiOK('publish', { channel, data: { i: 1 } });
      await server.apiOK('publish', { channel, data: { i: 2 } });
      await server.apiOK('history_remove', { channel });
      const h = await server.apiOK('history', { channel, limit: -1 });
      assert.equal((h.publications ?? []).length, 0, JSON.stringify(h)); // key presence: see pubsub "empty API results"
      assert.equal(h.offset, 2, JSON.stringify(h));
    });
  });
}
