import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeBenchmarks } from '../bench/bench';
import { insertRealRow } from '../bench/real';
import { withSection } from '../bench/sections';

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

test("npm run bench rewrites its own part and keeps other benches' sections and the prose between them", () => {
  const previous = [
    '# Benchmarks (old numbers)',
    '<!-- bench:memory -->old memory<!-- /bench:memory -->',
    '## Notes (old)',
    '<!-- bench:serve -->',
    'serve table',
    '<!-- /bench:serve -->',
    '',
    '**Read plainly**: a paragraph no bench writes.',
    '',
    '<!-- bench:memory -->a stray older copy<!-- /bench:memory -->',
    '<!-- bench:real -->',
    'real rows',
    '',
  ].join('\n');
  const md = '# Benchmarks (new numbers)\n<!-- bench:memory -->new memory<!-- /bench:memory -->\n## Notes (new)\n';
  const out = mergeBenchmarks(md, previous);
  assert.equal(
    out,
    md +
      '\n<!-- bench:serve -->\nserve table\n<!-- /bench:serve -->\n\n**Read plainly**: a paragraph no bench writes.\n\n' +
      '<!-- bench:real -->\nreal rows\n',
  );
});

test('a bench section is replaced in place, else put before bench:real, else at the end; prose around it stays', () => {
  const text = '# B\n\nintro\n<!-- bench:faces -->\nold\n<!-- /bench:faces -->\n\nprose\n<!-- bench:real -->\nrows\n';
  assert.equal(withSection(text, 'faces', 'new\n'), text.replace('\nold\n', '\nnew\n'));
  assert.equal(
    withSection(text, 'queue', 'q'),
    text.replace('<!-- bench:real -->', '<!-- bench:queue -->\nq\n<!-- /bench:queue -->\n\n<!-- bench:real -->'),
  );
  assert.equal(withSection('# B\n', 'queue', 'q'), '# B\n\n<!-- bench:queue -->\nq\n<!-- /bench:queue -->\n');
});
