// Origin checks at the WebSocket upgrade (spec §6.4): listed origins and
// glob patterns pass, anything else gets HTTP 403, requests without Origin
// always pass, and an empty list refuses every Origin.

import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  PROTOCOLS, T, startServer, newClient, connected, closeClients, collect, waitEvent,
  uid, signJWT, nowSec, originWebSocket, rawConnect, traceOf, sleep,
} from './helpers.mjs';

const SECRET = 'e2e-secret-' + uid();
const token = () => signJWT({ sub: uid('u'), exp: nowSec(3600) }, { key: SECRET });

afterEach(() => closeClients());

/** Resolves to 'open' or the HTTP status that refused the upgrade. */
async function upgrade(url, origin) {
  try {
    const { ws, closed } = await rawConnect(url, { origin });
    ws.close();
    await closed;
    return 'open';
  } catch (e) {
    if (e.status) return e.status;
    throw e;
  }
}

describe('allowed_origins: ["http://good.example", "https://*.wild.example"]', () => {
  let server;
  before(async () => {
    server = await startServer({
      token_hmac_secret_key: SECRET,
      allowed_origins: ['http://good.example', 'https://*.wild.example'],
    });
  });
  after(() => server?.stop());

  const cases = [
    ['listed origin', 'http://good.example', 'open'],
    ['listed origin in upper case (matched lower-cased)', 'HTTP://GOOD.EXAMPLE', 'open'],
    ['other origin', 'http://evil.example', 403],
    ['listed host, other scheme', 'https://good.example', 403],
    ['listed host, other port', 'http://good.example:8080', 403],
    ['glob match', 'https://a.wild.example', 'open'],
    ['glob lookalike', 'https://a.wild.example.evil.com', 403],
    ['no Origin header', undefined, 'open'],
  ];
  for (const [name, origin, want] of cases) {
    test(`raw upgrade, ${name} (${origin ?? 'none'}) → ${want}`, T, async () => {
      assert.equal(await upgrade(server.wsUrl, origin), want);
    });
  }

  for (const proto of PROTOCOLS) {
    test(`${proto}: SDK with Origin http://good.example connects`, T, async () => {
      const c = newClient(server, proto, { token: token(), websocket: originWebSocket('http://good.example') });
      await connected(c);
    });
    test(`${proto}: SDK without Origin connects`, T, async () => {
      const c = newClient(server, proto, { token: token() });
      await connected(c);
    });
    test(`${proto}: SDK with a foreign Origin never connects`, T, async () => {
      const c = newClient(server, proto, { token: token(), websocket: originWebSocket('http://evil.example') });
      const connectedEvents = collect(c, 'connected');
      const errored = waitEvent(c, 'error', { what: 'transport error for refused upgrade' });
      c.connect();
      await errored;
      await sleep(500);
      assert.equal(connectedEvents.length, 0, `trace: ${traceOf(c)}`);
      assert.equal(c.state, 'connecting', 'refused upgrades look like network errors: SDK keeps retrying');
    });
  }
});

describe('allowed_origins empty (default)', () => {
  let server;
  before(async () => { server = await startServer({ token_hmac_secret_key: SECRET }); });
  after(() => server?.stop());

  test('any Origin → 403', T, async () => {
    assert.equal(await upgrade(server.wsUrl, 'http://localhost:3000'), 403);
  });
  test('no Origin → open', T, async () => {
    assert.equal(await upgrade(server.wsUrl, undefined), 'open');
  });
});

describe('allowed_origins: ["*"]', () => {
  let server;
  before(async () => { server = await startServer({ token_hmac_secret_key: SECRET, allowed_origins: ['*'] }); });
  after(() => server?.stop());

  test('any Origin → open', T, async () => {
    assert.equal(await upgrade(server.wsUrl, 'https://anything.example:1234'), 'open');
  });
});
