// Prints the catalogue as the Markdown table of docs/reliability.md:
//   node e2e/catalogue/table.mjs
// The catalogue suite checks the document holds exactly this table, so the
// page cannot drift from what is tested.

import { fileURLToPath } from 'node:url';

import { CASES } from './cases.mjs';

const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The table: one row per case, numbered as the suite numbers its tests. */
export function catalogueTable() {
  const rows = CASES.map((c, i) => `| ${i + 1} | ${c.area} | ${cell(c.input)} | ${cell(c.expect)} |`);
  return ['| # | area | input | answer |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(catalogueTable());
