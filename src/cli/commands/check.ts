import type { CommandModule } from 'yargs';
import { loadLaunchManifest } from '../../launch/launch-manifest.js';
import { checkManifest, formatCheckReport } from '../../resolve/check.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import type { GlobalArguments } from '../global-options.js';
import { writeStdout } from '../output.js';
import { redactionChecker, redactionFrom } from '../redaction-options.js';
import {
  launchExitCode,
  manifestOptionsFrom,
  manifestSettingsOf,
  reportLaunchError,
  withLauncherOptions,
  type LauncherArguments,
} from './run.js';

/** `credexec check [-m MANIFEST]…`: resolve and decrypt everything, print where each variable comes from. */
export function checkCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, LauncherArguments> {
  return {
    command: 'check',
    describe:
      'resolve and decrypt every manifest entry without running anything (never prints values)',
    builder: (yargs) =>
      withLauncherOptions(yargs)
        .example('$0 check', 'resolve ./credexec.env and show where each variable comes from')
        .example('$0 check -m app.env --context env=prod', 'another manifest, with context'),
    handler: async (argv) => {
      const options = manifestOptionsFrom(argv, context, 'check');
      const settings = await manifestSettingsOf(argv, context.env);
      const redaction = redactionFrom(argv, context.env, settings.redact);
      const redactionCheck =
        redaction === undefined ? undefined : await redactionChecker(redaction);
      let report;
      try {
        const entries = await loadLaunchManifest(options, context.env);
        const backend = await context.openBackend(argv);
        report = await checkManifest(backend, entries, {
          concurrency: options.concurrency,
          ...(redactionCheck === undefined ? {} : { inspect: redactionCheck.inspect }),
        });
      } catch (error: unknown) {
        if (error instanceof UsageError) throw error;
        reportLaunchError(context, error);
        context.setExitCode(launchExitCode(error));
        return;
      }
      await writeStdout(context.io, formatCheckReport(report), redactionCheck?.text() ?? '');
      context.setExitCode(report.ok ? ExitCode.OK : ExitCode.LAUNCH_FAILED);
    },
  };
}
