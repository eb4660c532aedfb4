// The README's quick-start command, run as written (plus --port, so a
// busy 8000 cannot fail the suite): the page must load and its WebSocket
// must answer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { REPO, T, freePort, startDev, openPage, waitLive } from './helpers.mjs';

const DOCUMENTED = 'go run ./cmd/spindle dev';

/** The `go run ./cmd/spindle …` line of the README that starts the demo. */
function readmeCommand() {
  const text = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  // A shell line, without a "$ " prompt or a trailing "# comment".
  const lines = text.split('\n').map((l) => l.trim().replace(/^\$\s*/, '').replace(/\s+#.*$/, ''));
  return lines.find((l) => /^go run \.\/cmd\/spindle( dev)?$/.test(l));
}

test('the README run command serves the page and a working WebSocket', T, async (t) => {
  let cmd = readmeCommand();
  if (!cmd) {
    t.diagnostic(`README.md has no bare run line yet; running the documented "${DOCUMENTED}"`);
    cmd = DOCUMENTED;
  }
  const port = await freePort();
  const argv = [...cmd.split(/\s+/), '--port', String(port)];
  const server = await startDev({ port, cmd: argv });
  t.after(() => server.stop());

  const res = await fetch(server.url);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<script src="\/app\.js"/);
  assert.match(server.output(), new RegExp(`http://127\\.0\\.0\\.1:${port}/`), 'the URL is printed');
  assert.match(server.output(), /"allow_user_limited_channels": true/, 'the config in use is printed');

  const visitor = await openPage(server.url);
  t.after(() => visitor.close());
  await waitLive(visitor.page);
  const free = await visitor.page.locator('#seatmap .seat[data-state="free"]').count();
  assert.ok(free > 0, 'the seat map arrived over the WebSocket');
  assert.deepEqual(visitor.errors, []);
});
