import type { CommandModule } from 'yargs';
import { CHECK_OPTIONS } from '../option-specs.js';
import { withOptions } from '../global-options.js';
import { defaultPolicyFrom } from '../watch-options.js';
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

interface CheckArguments extends LauncherArguments {
  readonly watchPlan?: boolean | undefined;
}

/**
 * `credexec check --watch-plan`: what `--watch` would do with the manifest, read from the manifest
 * alone (no store, no key service). A default policy that cannot apply is the UsageError `run`
 * would give.
 */
async function printWatchPlan(context: CommandContext, argv: CheckArguments): Promise<void> {
  const settings = await manifestSettingsOf(argv, context.env);
  const { policy, source } = defaultPolicyFrom(argv.onChange, settings);
  const entries = await loadLaunchManifest(
    manifestOptionsFrom(argv, context, 'check'),
    context.env,
  );
  const { formatWatchPlan, planProblem, watchPlan } = await import('../../watch/watch-plan.js');
  const plan = watchPlan(entries, policy);
  const problem = planProblem(plan, source);
  if (problem !== undefined) throw problem;
  await writeStdout(context.io, formatWatchPlan(entries, plan));
  context.setExitCode(ExitCode.OK);
}

/** `credexec check [-m MANIFEST]…`: resolve and decrypt everything, print where each variable comes from. */
export function checkCommand(
  context: CommandContext,
): CommandModule<GlobalArguments, CheckArguments> {
  return {
    command: 'check',
    describe:
      'resolve and decrypt every manifest entry without running anything (never prints values)',
    builder: (yargs) =>
      withOptions(withLauncherOptions(yargs), CHECK_OPTIONS)
        .example('$0 check', 'resolve ./credexec.env and show where each variable comes from')
        .example('$0 check -m app.env --context env=prod', 'another manifest, with context')
        .example('$0 check --watch-plan', 'what --watch would watch, and what a change does'),
    handler: async (argv) => {
      if (argv.watchPlan === true) {
        try {
          await printWatchPlan(context, argv);
        } catch (error: unknown) {
          if (error instanceof UsageError) throw error;
          reportLaunchError(context, error);
          context.setExitCode(launchExitCode(error));
        }
        return;
      }
      if (argv.onChange !== undefined)
        throw new UsageError('--on-change goes with --watch-plan (check) or --watch (run)');
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
