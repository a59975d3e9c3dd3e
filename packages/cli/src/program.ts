import { Command, CommanderError, Option } from 'commander';
import { EXIT, UsageError } from './cli-error.js';
import { configCommand } from './commands/config.js';
import { devicesCommand } from './commands/devices.js';
import { eventTypesCommand } from './commands/event-types.js';
import { sendCommand } from './commands/send.js';
import { tailCommand } from './commands/tail.js';
import { traceCommand } from './commands/trace.js';
import type { CliIo } from './io.js';
import { describeError } from './output.js';
import { DEFAULTS, localDefaults, readCliEnv, resolveSettings } from './settings.js';
import type { Environment, Settings } from './settings.js';

/**
 * The `herald` program. Commands set `exitCode`; nothing here calls `process.exit`, so the
 * program also runs inside tests.
 */
export function createProgram(io: CliIo, environment: Environment, setExitCode: (code: number) => void): Command {
  const env = readCliEnv(environment);
  // Shown in --help; a bad INGEST_PORT / GATEWAY_PORT is reported when a command runs.
  let local: { ingest: string; gateway: string } = { ingest: DEFAULTS.ingest, gateway: DEFAULTS.gateway };
  try {
    local = localDefaults(env);
  } catch {
    // resolveSettings reports it.
  }
  const program = new Command('herald')
    .description("Send Herald events, tail an account, list its devices, trace an event, show Herald's configuration.")
    .option('--ingest <url>', `ingest's URL (env HERALD_INGEST_URL, else localhost on INGEST_PORT)`, env.HERALD_INGEST_URL ?? local.ingest)
    .option('--gateway <url>', `the gateway's URL (env HERALD_GATEWAY_URL, else localhost on GATEWAY_PORT)`, env.HERALD_GATEWAY_URL ?? local.gateway)
    // No default value here: commander would print it in --help, and a key from the environment is a secret.
    .option('--key <serviceKey>', `a service key (env HERALD_SERVICE_KEY; default: the development key ${DEFAULTS.key})`)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride();

  /** Runs a command with the global settings; reports its failure on stderr as the server said it. */
  const action =
    <A extends unknown[]>(service: 'ingest' | 'gateway', run: (settings: Settings, ...args: A) => Promise<number | void>) =>
    async (...args: A): Promise<void> => {
      let settings: Settings | undefined;
      try {
        settings = resolveSettings(program.opts(), env);
        setExitCode((await run(settings, ...args)) ?? EXIT.ok);
      } catch (error) {
        const url = service === 'ingest' ? settings?.ingestUrl : settings?.gatewayUrl;
        io.stderr.write(describeError(error, { service, ...(url === undefined ? {} : { url }) }));
        setExitCode(error instanceof UsageError ? EXIT.usage : EXIT.failed);
      }
    };

  program
    .command('send')
    .description('submit one event and print { id, status, priority }')
    .argument('<type>', 'event type, from the catalog (see `herald event-types`)')
    .requiredOption('--account <id>', 'account id')
    .option('--profile <id>', 'profile id')
    .option('--payload <json>', 'payload, a JSON object')
    .option('--id <id>', 'idempotency id (default: generated)')
    .option('--collapse-key <key>', 'later notifications with this key supersede this one on pull')
    .option('--created-at <time>', 'ISO-8601 time or epoch ms (default: now)')
    .option('--platforms <list>', 'only these platforms, comma-separated (web,tv,ios,android)')
    .option('--devices <list>', 'only these device ids, comma-separated')
    .action(action('ingest', (settings, type: string, options: object) => sendCommand(type, options, settings, io)));

  program
    .command('tail')
    .description('register a temporary device and print each notification of the account as a JSON line')
    .argument('<accountId>', 'account id')
    .addOption(new Option('--platform <platform>', 'platform of the temporary device').choices(['web', 'tv']).default('web'))
    .option('--profile <id>', "profile of the temporary device (receives that profile's events)")
    .action(action('ingest', (settings, accountId: string, options: object) => tailCommand(accountId, options, settings, io)));

  program
    .command('devices')
    .description("list an account's devices")
    .argument('<accountId>', 'account id')
    .option('--json', 'print JSON')
    .action(action('ingest', (settings, accountId: string, options: { json?: boolean }) => devicesCommand(accountId, options, settings, io)));

  program
    .command('trace')
    .description('show where an event went: gates, pushes, acks')
    .argument('<eventId>', 'event id')
    .option('--json', 'print JSON')
    .action(action('ingest', (settings, eventId: string, options: { json?: boolean }) => traceCommand(eventId, options, settings, io)));

  program
    .command('event-types')
    .description('list the event catalog')
    .option('--json', 'print JSON')
    .action(action('ingest', (settings, options: { json?: boolean }) => eventTypesCommand(options, settings, io)));

  program
    .command('config')
    .description("list every variable Herald's apps read: value here (secrets masked), source, default; warn of unknown HERALD_* variables")
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => setExitCode(configCommand(options, environment, io)));

  return program;
}

/** Parses `argv` (the arguments after `herald`) and runs the command with `environment`'s variables; resolves with the exit code. */
export async function run(argv: readonly string[], io: CliIo, environment: Environment): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = createProgram(io, environment, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    io.stderr.write(describeError(error));
    return EXIT.failed;
  }
  return exitCode;
}
