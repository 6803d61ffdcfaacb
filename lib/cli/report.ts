/** `realfake report --run RUNDIR`: compare a run with the study (logic in lib/eval/report.ts). */
import * as path from 'path';
import { Command } from 'commander';
import { buildReport } from '../eval/report';
import { formatSourceTable } from '../eval/per-source';
import { textTable } from '../eval/tables';
import { writeFileAtomic } from '../files';
import { UsageError, action } from './common';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description("print a run's metrics beside the study's published figures and write RUNDIR/report.md")
    .option('--run <dir>', 'run folder (holds metrics.json and config.json)')
    .action(
      action(async (flags: { run?: string }) => {
        if (!flags.run) throw new UsageError('report needs --run RUNDIR (a folder with metrics.json and config.json)');
        const report = buildReport(flags.run);
        const out = path.join(flags.run, 'report.md');
        writeFileAtomic(out, report.markdown);
        const metrics = textTable(
          ['Metric', 'This run', 'Study (as published)', 'Study (corrected)'],
          report.rows.map((r) => [r.metric, r.run, r.published, r.corrected]),
        );
        const config = textTable(
          ['Setting', 'This run', 'Study'],
          report.configRows.map((r) => [r.setting, r.run, r.study]),
        );
        const sources = report.perSource
          ? `per source (95 % bootstrap intervals; ${report.perSourceNote}):\n${formatSourceTable(report.perSource)}`
          : report.perSourceNote;
        process.stdout.write(
          `${metrics}\n\n¹ the study printed precision and recall swapped (see report.md)\n` +
            `² its ROC used hard labels; not comparable\n\n${report.splitNote}\n\n${sources}\n\n${config}\n\nwrote ${out}\n`,
        );
      }),
    );
}
