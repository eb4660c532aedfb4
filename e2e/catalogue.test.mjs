// The bad-input catalogue (docs/reliability.md): each case sends one bad
// input to real processes and asserts the exact answer; all of them share one
// topology (e2e/catalogue/topology.mjs) while a canary subscriber gets a
// publication every 100 ms. At the end: not one canary publication lost, and
// /health answered 200 every time it was asked.
// CATALOGUE_DISCOVER=<file> writes every observed answer there instead of
// failing on a mismatch (to write a new case's `expect`).

import fs from 'node:fs';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { CASES } from './catalogue/cases.mjs';
import { catalogueTable } from './catalogue/table.mjs';
import { startTopology, healthyApp } from './catalogue/topology.mjs';
import { E2E_DIR, closeClients } from './helpers.mjs';
import path from 'node:path';

const discover = process.env.CATALOGUE_DISCOVER;
const note = (s) => fs.appendFileSync(discover, `${s}\n`);
let ctx;

before(async () => {
  ctx = await startTopology();
  ctx.healthy = healthyApp;
}, { timeout: 40000 });

after(async () => {
  closeClients();
  await ctx?.stop();
}, { timeout: 20000 });

describe('bad-input catalogue', () => {
  test(`the catalogue holds at least 80 inputs (${CASES.length})`, () => {
    assert.ok(CASES.length >= 80, `${CASES.length} cases`);
  });

  test('docs/reliability.md shows exactly this catalogue', () => {
    const doc = fs.readFileSync(path.join(E2E_DIR, '..', 'docs', 'reliability.md'), 'utf8');
    const m = doc.match(/<!-- catalogue:begin -->\n([\s\S]*?)\n<!-- catalogue:end -->/);
    assert.ok(m, 'docs/reliability.md has the catalogue markers');
    assert.equal(m[1], catalogueTable(), 'regenerate the table: node e2e/catalogue/table.mjs');
  });

  for (const [i, c] of CASES.entries()) {
    test(`#${i + 1} ${c.area}: ${c.input} → ${c.expect}`, { timeout: 30000 }, async () => {
      const got = await c.run(ctx);
      if (discover) { if (got !== c.expect) note(`#${i + 1}\t${c.area}\t${c.input}\n\texpect: ${c.expect}\n\tgot:    ${got}`); return; }
      assert.equal(got, c.expect, `answer to: ${c.input}\n--- server ---\n${ctx.server.tail(15)}`);
    });
  }

  test('the canary lost nothing and /health stayed 200 through the whole catalogue', { timeout: 20000 }, async () => {
    const r = await ctx.canary.finish();
    if (discover) note(JSON.stringify({ ...r, lost: r.lost.map((l) => ({ proto: l.proto, missing: l.missing.length })) }));
    assert.ok(r.sent > 50, `canary published ${r.sent} times`);
    assert.equal(r.failed, 0, 'every canary publish was acknowledged');
    for (const l of r.lost) assert.deepEqual(l.missing, [], `${l.proto} canary missed publications`);
    assert.deepEqual(r.health.bad, [], '/health answers that were not 200');
    assert.ok(r.health.ok > 10, `/health polled ${r.health.ok} times`);
    assert.equal(ctx.server.exited, null, 'the server is still running');
  });
});
