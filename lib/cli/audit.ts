/** `realfake audit`: data audit + shortcut probes, study preprocessing vs harmonised (logic in lib/audit/). */
import * as path from 'path';
import { Command } from 'commander';
import { runAudit } from '../audit/run-audit';
import { action, UsageError } from './common';
import { addConfigFlags, ConfigFlags, configFromFlags } from './config-flags';
import { stepperFactory } from '../train/steppers';

interface AuditFlags extends ConfigFlags {
  real?: string;
  fake?: string;
  out: string;
  studyCnn?: boolean;
}

export function registerAuditCommand(program: Command): void {
  const command = program
    .command('audit')
    .description(
      'audit a real/fake folder pair (format, size, bytes, JPEG quality, colour mode, EXIF per class) and run probes ' +
        "(metadata, spectrum, small CNN; optionally the study CNN) under the study's preprocessing and harmonised; " +
        'without --real/--fake, audits the embedded synthetic set made in two formats',
    )
    .option('--real <dir>', 'folder of real face images')
    .option('--fake <dir>', 'folder of AI-generated face images')
    .option('--out <dir>', 'parent folder of audit folders', path.join('outputs', 'audit'))
    .option(
      '--study-cnn',
      "also train and evaluate the study's CNN under both preprocessings (slow: uses --epochs etc.)",
    );
  addConfigFlags(command, 'seed').action(
    action(async (flags: AuditFlags) => {
      if (!!flags.real !== !!flags.fake)
        throw new UsageError('give both --real and --fake, or neither (to audit the embedded synthetic set)');
      if (flags.harmonize) throw new UsageError('--harmonize does not apply: audit runs both preprocessings');
      const config = configFromFlags(flags);
      const result = await runAudit({
        realDir: flags.real,
        fakeDir: flags.fake,
        config,
        outRoot: flags.out,
        studyCnn: flags.studyCnn,
        makeStepper: flags.studyCnn ? (c) => stepperFactory(c) : undefined,
        log: (line) => process.stderr.write(line + '\n'),
      });
      process.stdout.write(`${result.text}\n`);
    }),
  );
}
