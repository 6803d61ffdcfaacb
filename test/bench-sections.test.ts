import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insertRealRow } from '../bench/real';

const HEADER = '<!-- bench:real -->\n## Real data\n\n| a | b |\n|---|---|';

test('bench:real puts its row under its own table, not after the notes or the next section', () => {
  const text = [
    '# Benchmarks',
    '<!-- bench:real -->',
    '## Real data',
    '',
    '| a | b |',
    '|---|---|',
    '| 1 | 2 |',
    '',
    'A paragraph about row 1.',
    '<!-- bench:study-like -->',
    '## Study-like',
    '| x | y |',
    '',
  ].join('\n');
  const out = insertRealRow(text, HEADER, '| 3 | 4 |');
  assert.equal(out, text.replace('| 1 | 2 |\n', '| 1 | 2 |\n| 3 | 4 |\n'));
});

test('bench:real appends its section with the header when the file has none', () => {
  const out = insertRealRow('# Benchmarks\n\nsome text\n', HEADER, '| 3 | 4 |');
  assert.equal(out, `# Benchmarks\n\nsome text\n\n${HEADER}\n| 3 | 4 |\n`);
});
