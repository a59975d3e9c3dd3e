import { VARIABLE_GROUPS, configProblems, describeUnknownVariable, listVariables, unknownVariables } from '@herald/config';
import type { AppName } from '@herald/config';
import { EXIT } from '../cli-error.js';
import type { Environment } from '../settings.js';
import type { CliIo } from '../io.js';
import { table } from '../output.js';

/** The apps whose start `herald config` checks. */
const APPS = ['ingest', 'worker', 'gateway', 'dashboard'] as const satisfies readonly AppName[];

/** What would stop an app from starting, each problem once, with the apps it stops (all of them: none named). */
function problems(environment: Environment): { problem: string; apps: AppName[] }[] {
  const byProblem = new Map<string, AppName[]>();
  for (const app of APPS) {
    for (const problem of configProblems(environment, app)) byProblem.set(problem, [...(byProblem.get(problem) ?? []), app]);
  }
  return [...byProblem].map(([problem, apps]) => ({ problem, apps }));
}

/**
 * `herald config [--json]`: every variable Herald's apps read, with its value in this environment
 * (secrets masked), where that comes from (env, default, unset) and its default; then (on stderr,
 * or in the JSON) the unknown HERALD_* variables and what would stop an app from starting. Exits
 * 2 when something would.
 */
export function configCommand(options: { json?: boolean }, environment: Environment, io: CliIo): number {
  const variables = listVariables(environment);
  const unknown = unknownVariables(environment);
  const refused = problems(environment);
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify({ variables, unknown, problems: refused }, null, 2)}\n`);
  } else {
    const rows = VARIABLE_GROUPS.flatMap((group) => variables.filter((variable) => variable.group === group));
    const [header = '', ...lines] = table(
      ['VARIABLE', 'VALUE', 'SOURCE', 'DEFAULT'],
      rows.map((variable) => [variable.name, variable.value ?? '-', variable.source, variable.default ?? '-']),
    ).split('\n');
    const output = [header];
    rows.forEach((variable, index) => {
      if (variable.group !== rows[index - 1]?.group) output.push('', `${variable.group}:`);
      output.push(lines[index] ?? '');
    });
    io.stdout.write(`${output.join('\n')}\n`);
    for (const variable of unknown) io.stderr.write(`herald: ${describeUnknownVariable(variable)}\n`);
    for (const { problem, apps } of refused) io.stderr.write(`herald: ${problem}${apps.length === APPS.length ? '' : ` (${apps.join(', ')})`}\n`);
  }
  return refused.length === 0 ? EXIT.ok : EXIT.usage;
}
