// Prints issue 15's table from bench.sh JSON lines: the median of each
// figure for the base and the candidate, their ratio, and the goal (as a
// ratio to the base). usage: node scripts/bench-table.mjs results.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n')
  .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((r) => r.tool === 'loadgen');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const figure = (run, label, key) => rows.filter((r) => r.run === run && r.label === label && typeof r[key] === 'number').map((r) => r[key]);

// [run, key, what, goal as a ratio to the base, "≤" or "≥"]
const goals = [
  ['idle', 'kb_per_conn_idle', 'idle RSS per connection (KiB)', 0.55, '≤'],
  ['connectproxy', 'connects_per_s', 'connects/s via gRPC connect proxy', 1.36, '≥'],
  ['connectproxy', 'lat_p99_ms', 'connect p99 via proxy (ms)', 0.74, '≤'],
  ['connectjwt', 'connects_per_s', 'connects/s with JWTs', 1.23, '≥'],
  ['fanoutmax', 'deliveries_per_s', 'max deliveries/s, 2000 subscribers', 0.71, '≥'],
  ['fanoutmax', 'lat_p99_ms', 'delivery p99 at max (ms)', 0.31, '≤'],
  ['fanout50', 'lat_p99_ms', 'delivery p99 at 50 pub/s (ms)', 0.80, '≤'],
  ['fanout200', 'lat_p99_ms', 'delivery p99 at 200 pub/s (ms)', null, ''],
];
console.log('\n| figure | base | candidate | ratio | goal | met |\n|---|---|---|---|---|---|');
for (const [run, key, what, goal, dir] of goals) {
  const b = figure(run, 'base', key), c = figure(run, 'candidate', key);
  if (!b.length || !c.length) continue;
  const mb = median(b), mc = median(c), ratio = mc / mb;
  const met = goal == null ? '' : (dir === '≤' ? ratio <= goal : ratio >= goal) ? 'yes' : 'no';
  console.log(`| ${what} (n=${b.length}/${c.length}) | ${mb.toFixed(1)} | ${mc.toFixed(1)} | ${ratio.toFixed(2)}× | ${goal == null ? '' : dir + ' ' + goal + '×'} | ${met} |`);
}
const lost = rows.filter((r) => (r.lost ?? 0) > 0 || (r.dropped ?? 0) > 0 || (r.errors ?? 0) > 0 || (r.publish_errors ?? 0) > 0);
console.log(lost.length ? `\n${lost.length} runs lost, dropped or failed something: ${lost.map((r) => `${r.label}/${r.run}`).join(', ')}` : '\nEvery run: 0 lost, 0 dropped, 0 errors.');
