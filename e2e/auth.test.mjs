// Connection authentication (spec §4, §1.7): every JWT algorithm family, JWKS,
// expiry handling through the SDK's getToken, and the refusal codes the SDK
// turns into terminal disconnects.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, subscribed, closeClients, waitEvent, collect,
  sleep, uid, signJWT, nowSec, genKeyPair, publicPEM, startJWKS, publicJWK, traceOf,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();

afterEach(() => closeClients());

/** Connects with `token` and asserts the SDK reaches 'connected' with a client id. */
async function assertConnects(server, proto, token) {
  const c = newClient(server, proto, { token });
  const ctx = await connected(c);
  assert.equal(typeof ctx.client, 'string', 'connected ctx.client must be a string');
  assert.ok(ctx.client.length > 0, 'connected ctx.client must be non-empty');
  assert.equal(ctx.transport, 'websocket');
  return c;
}

/** Asserts the SDK ends in terminal 'disconnected' with `code` and does not retry. */
async function assertTerminal(server, proto, opts, code) {
  const c = newClient(server, proto, opts);
  const connecting = collect(c, 'connecting');
  const p = waitEvent(c, 'disconnected', { what: `terminal disconnect ${code}` });
  c.connect();
  const ctx = await p.catch((e) => { throw new Error(`${e.message}; trace: ${traceOf(c)}`); });
  assert.equal(ctx.code, code, `disconnect code (trace: ${traceOf(c)})`);
  const before = connecting.length;
  await sleep(700);
  assert.equal(c.state, 'disconnected', `client must stay disconnected after code ${code} (trace: ${traceOf(c)})`);
  assert.equal(connecting.length, before, `no reconnect attempts after terminal code ${code} (trace: ${traceOf(c)})`);
}

describe('HMAC tokens (HS256/384/512)', () => {
  let server;
  before(async () => {
    server = await startServer({
      token_hmac_secret_key: SECRET,
      presence: true,
      allow_subscribe_for_client: true,
      allow_presence_for_subscriber: true,
    });
  });
  after(() => server?.stop());

  for (const proto of PROTOCOLS) {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      test(`${proto}: ${alg} token connects`, T, async () => {
        await assertConnects(server, proto, signJWT({ sub: uid('u') }, { alg, key: SECRET }));
      });
    }

    test(`${proto}: token sub becomes the user id seen in presence`, T, async () => {
      const user = uid('user');
      const c = await assertConnects(server, proto, signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }));
      const [sub] = await subscribed(c, uid('who'));
      const pres = await sub.presence();
      const mine = Object.values(pres.clients);
      assert.equal(mine.length, 1, `presence: ${JSON.stringify(pres)}`);
      assert.equal(mine[0].user, user);
    });

    test(`${proto}: expired token → error 109, SDK calls getToken and connects`, T, async () => {
      const user = uid('u');
      let calls = 0;
      const c = newClient(server, proto, {
        token: signJWT({ sub: user, exp: nowSec(-60) }, { key: SECRET }),
        getToken: async () => { calls++; return signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }); },
      });
      const errors = collect(c, 'error');
      await connected(c, 8000);
      const codes = errors.map((e) => e.error?.code);
      assert.ok(codes.includes(109), `expected a connect error with code 109, got errors ${JSON.stringify(codes)}; trace: ${traceOf(c)}`);
      assert.equal(errors.find((e) => e.error?.code === 109).type, 'connect');
      assert.equal(calls, 1, 'getToken must be called exactly once');
    });

    test(`${proto}: token about to expire → connect result asks for refresh, SDK refreshes and stays`, T, async () => {
      const user = uid('u');
      let calls = 0;
      const c = newClient(server, proto, {
        token: signJWT({ sub: user, exp: nowSec(2) }, { key: SECRET }),
        getToken: async () => { calls++; return signJWT({ sub: user, exp: nowSec(3600) }, { key: SECRET }); },
      });
      const disconnects = collect(c, 'disconnected');
      const connectings = collect(c, 'connecting');
      await connected(c);
      await sleep(4500);
      assert.ok(calls >= 1, `getToken must be called for refresh (expires/ttl in connect result); trace: ${traceOf(c)}`);
      assert.equal(c.state, 'connected', `trace: ${traceOf(c)}`);
      assert.equal(disconnects.length, 0, `no disconnects during refresh; trace: ${traceOf(c)}`);
      assert.equal(connectings.length, 1, `refresh must not reconnect (only the initial connecting); trace: ${traceOf(c)}`);
    });

    test(`${proto}: bad signature → terminal disconnect 3500`, T, async () => {
      await assertTerminal(server, proto, { token: signJWT({ sub: uid('u') }, { key: SECRET + 'x' }) }, 3500);
    });

    test(`${proto}: alg "none" → terminal disconnect 3500`, T, async () => {
      await assertTerminal(server, proto, { token: signJWT({ sub: uid('u') }, { alg: 'none' }) }, 3500);
    });

    test(`${proto}: RS256 token without an RSA key configured → 3500`, T, async () => {
      const pair = genKeyPair('RS256');
      await assertTerminal(server, proto, { token: signJWT({ sub: uid('u') }, { alg: 'RS256', key: pair.privateKey }) }, 3500);
    });

    test(`${proto}: no token and anonymous not allowed → terminal disconnect 3501`, T, async () => {
      await assertTerminal(server, proto, {}, 3501);
    });
  }
});

describe('RSA tokens (RS256/384/512)', () => {
  let server;
  const pair = genKeyPair('RS256');
  before(async () => { server = await startServer({ token_rsa_public_key: publicPEM(pair) }); });
  after(() => server?.stop());

  for (const proto of PROTOCOLS) {
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      test(`${proto}: ${alg} token connects`, T, async () => {
        await assertConnects(server, proto, signJWT({ sub: uid('u'), exp: nowSec(600) }, { alg, key: pair.privateKey }));
      });
    }
    test(`${proto}: RS256 signed by another key → 3500`, T, async () => {
      const other = genKeyPair('RS256');
      await assertTerminal(server, proto, { token: signJWT({ sub: uid('u') }, { alg: 'RS256', key: other.privateKey }) }, 3500);
    });
  }
});

for (const alg of ['ES256', 'ES384', 'ES512']) {
  describe(`ECDSA tokens (${alg}, own curve)`, () => {
    let server;
    const pair = genKeyPair(alg);
    before(async () => { server = await startServer({ token_ecdsa_public_key: publicPEM(pair) }); });
    after(() => server?.stop());

    for (const proto of PROTOCOLS) {
      test(`${proto}: ${alg} token connects`, T, async () => {
        await assertConnects(server, proto, signJWT({ sub: uid('u'), exp: nowSec(600) }, { alg, key: pair.privateKey }));
      });
      test(`${proto}: ${alg} signed by another key → 3500`, T, async () => {
        const other = genKeyPair(alg);
        await assertTerminal(server, proto, { token: signJWT({ sub: uid('u') }, { alg, key: other.privateKey }) }, 3500);
      });
    }
  });
}

describe('JWKS endpoint (token_jwks_public_endpoint)', () => {
  let server;
  let jwks;
  const keys = {
    RS256: genKeyPair('RS256'),
    ES256: genKeyPair('ES256'),
    ES384: genKeyPair('ES384'),
    ES512: genKeyPair('ES512'),
    EdDSA: genKeyPair('EdDSA'),
  };
  before(async () => {
    jwks = await startJWKS([
      publicJWK(keys.RS256, 'rsa-1', 'RS256'),
      { ...publicJWK(keys.RS256, 'rsa-any', 'RS256'), alg: undefined }, // "alg" is optional in a JWK
      publicJWK(keys.ES256, 'ec-256', 'ES256'),
      publicJWK(keys.ES384, 'ec-384', 'ES384'),
      publicJWK(keys.ES512, 'ec-521', 'ES512'),
      publicJWK(keys.EdDSA, 'ed-1', 'EdDSA'),
    ]);
    server = await startServer({ token_jwks_public_endpoint: jwks.url });
  });
  after(async () => { await server?.stop(); await jwks?.close(); });

  const cases = [
    ['RS256', 'rsa-1', 'RS256'],
    ['RS512 with a JWK that has no "alg"', 'rsa-any', 'RS512'],
    ['ES256', 'ec-256', 'ES256'],
    ['ES384', 'ec-384', 'ES384'],
    ['ES512', 'ec-521', 'ES512'],
    ['EdDSA (OKP Ed25519)', 'ed-1', 'EdDSA'],
  ];
  for (const proto of PROTOCOLS) {
    for (const [name, kid, alg] of cases) {
      test(`${proto}: ${name} by kid ${kid} connects`, T, async () => {
        const key = keys[alg.startsWith('RS') ? 'RS256' : alg].privateKey;
        await assertConnects(server, proto, signJWT({ sub: uid('u'), exp: nowSec(600) }, { alg, key, kid }));
        assert.ok(jwks.state.hits >= 1, 'the server must have fetched the JWKS');
      });
    }
    test(`${proto}: unknown kid → 3500`, T, async () => {
      await assertTerminal(server, proto, {
        token: signJWT({ sub: uid('u') }, { alg: 'RS256', key: keys.RS256.privateKey, kid: 'nope' }),
      }, 3500);
    });
    test(`${proto}: right kid, wrong key → 3500`, T, async () => {
      const other = genKeyPair('ES256');
      await assertTerminal(server, proto, {
        token: signJWT({ sub: uid('u') }, { alg: 'ES256', key: other.privateKey, kid: 'ec-256' }),
      }, 3500);
    });
  }
});

describe('anonymous connections (allow_anonymous_connect_without_token)', () => {
  let server;
  before(async () => {
    server = await startServer({
      token_hmac_secret_key: SECRET,
      allow_anonymous_connect_without_token: true,
      presence: true,
      allow_subscribe_for_client: true,
      allow_subscribe_for_anonymous: true,
      allow_presence_for_subscriber: true,
      allow_presence_for_anonymous: true,
    });
  });
  after(() => server?.stop());

  for (const proto of PROTOCOLS) {
    test(`${proto}: no token → connected as anonymous (user "")`, T, async () => {
      const c = newClient(server, proto);
      const ctx = await connected(c);
      assert.ok(ctx.client);
      const [sub] = await subscribed(c, uid('anon'));
      const pres = await sub.presence();
      const infos = Object.values(pres.clients);
      assert.equal(infos.length, 1, JSON.stringify(pres));
      assert.equal(infos[0].user, '', 'anonymous user id must be the empty string');
    });
    test(`${proto}: a token is still verified when anonymous is allowed (bad signature → 3500)`, T, async () => {
      await assertTerminal(server, proto, { token: signJWT({ sub: 'u' }, { key: 'wrong' }) }, 3500);
    });
  }
});
