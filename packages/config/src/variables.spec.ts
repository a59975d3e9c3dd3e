import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { OTHER_VARIABLES, OTHER_VARIABLE_PREFIXES, VARIABLES, unknownVariables } from './index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Table {
  header: string[];
  rows: string[][];
}

const README = readFileSync(join(root, 'README.md'), 'utf8');

/** The Markdown tables of a README's "Configuration" section (up to the next `## `). */
function configurationTables(readme: string): Table[] {
  const lines = readme.slice(readme.indexOf('\n## Configuration\n') + 1).split('\n');
  const end = lines.findIndex((line, index) => index > 0 && line.startsWith('## '));
  const tables: Table[] = [];
  let table: Table | undefined;
  for (const line of lines.slice(0, end)) {
    if (!line.startsWith('|')) {
      table = undefined;
      continue;
    }
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim());
    if (table === undefined) tables.push((table = { header: cells, rows: [] }));
    else if (!cells.every((cell) => /^-+$/.test(cell))) table.rows.push(cells);
  }
  return tables;
}

/**
 * What a README's configuration tables get wrong about the variable table: variables (or
 * per-priority families) without a row, rows whose default is not the code's, rows of variables
 * the apps do not read, and variables with two rows.
 */
function readmeProblems(readme: string): { missing: string[]; wrongDefault: string[]; unknown: string[]; repeated: string[] } {
  const tables = configurationTables(readme);
  const row = (name: string) => {
    for (const { header, rows } of tables) {
      const cells = rows.find((candidate) => candidate[0] === `\`${name}\``);
      if (cells !== undefined) return { header, cells };
    }
    return undefined;
  };
  const missing = new Set<string>();
  const wrongDefault: string[] = [];
  for (const variable of VARIABLES) {
    const name = variable.perPriority?.family ?? variable.name;
    const found = row(name);
    if (found === undefined) missing.add(name);
    else if (
      variable.perPriority !== undefined
        ? found.cells[found.header.indexOf(variable.perPriority.priority)] !== `\`${variable.default}\``
        : variable.default !== undefined && !(found.cells[1] ?? '').startsWith(`\`${variable.default}\``)
    ) {
      wrongDefault.push(variable.name);
    }
  }
  const known = new Set(VARIABLES.map((variable) => variable.perPriority?.family ?? variable.name));
  const documented = tables.flatMap(({ rows }) => rows.map((cells) => (cells[0] ?? '').replace(/`/g, '')));
  return {
    missing: [...missing],
    wrongDefault,
    unknown: documented.filter((name) => !known.has(name)),
    repeated: documented.filter((name, index) => documented.indexOf(name) !== index),
  };
}

describe("the README's configuration tables", () => {
  it('list every variable the apps read, once, with its default, and no other', () => {
    expect(readmeProblems(README)).to.deep.equal({ missing: [], wrongDefault: [], unknown: [], repeated: [] });
  });

  it('fail the check when a variable has no row, or a default differs from the code (regression: variables were added without a word)', () => {
    expect(README).to.contain('| `HERALD_SHED_MAX_PAUSE_MS` |').and.to.contain('| `HERALD_BACKLOG_LIMIT_<PRIORITY>` | `100000` |');
    const withoutRow = README.replace(/^\| `HERALD_SHED_MAX_PAUSE_MS` \|.*\n/m, '');
    expect(readmeProblems(withoutRow).missing).to.deep.equal(['HERALD_SHED_MAX_PAUSE_MS']);
    const staleDefault = README.replace('| `HERALD_BACKLOG_LIMIT_<PRIORITY>` | `100000` |', '| `HERALD_BACKLOG_LIMIT_<PRIORITY>` | `50000` |');
    expect(readmeProblems(staleDefault).wrongDefault).to.deep.equal(['HERALD_BACKLOG_LIMIT_HIGH']);
    const strayRow = README.replace('\n| `WORKER_PORT` |', '\n| `HERALD_WORKER_PORT` | `3400` | the old name |\n| `WORKER_PORT` |');
    expect(readmeProblems(strayRow).unknown).to.deep.equal(['HERALD_WORKER_PORT']);
  });
});

/** Files where Herald's variables may be named: sources, scripts, compose files, docs. */
function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', '.herald', '.turbo', 'results', 'artifacts'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|js|mjs|json|ya?ml|md|sh)$|^Dockerfile$|^run$/.test(entry.name)) yield path;
  }
}

/** Files that name unknown variables on purpose: the warning's specs and examples. */
const DELIBERATELY_UNKNOWN = [
  'packages/config/src/config.spec.ts',
  'packages/config/src/variables.spec.ts',
  'packages/config/src/unknown-variables.ts',
  'packages/cli/src/cli.spec.ts',
];
/** The README's example of the warning. */
const EXAMPLES = ['HERALD_GATWAY_URL'];
/** `HERALD_PARTITIONS` of `HERALD_PARTITIONS_<PRIORITY>`: how the variable table names a per-priority family. */
const FAMILIES = VARIABLES.flatMap((variable) => (variable.perPriority === undefined ? [] : [variable.perPriority.family.replace(/_<PRIORITY>$/, '')]));

describe('known HERALD_* variables', () => {
  it('knows every HERALD_* variable named in the repository, so the unknown-variable warning never fires on a real one', () => {
    const named = new Map<string, string>();
    for (const file of sourceFiles(root)) {
      const path = relative(root, file);
      if (DELIBERATELY_UNKNOWN.includes(path) || path === 'package-lock.json') continue;
      // Whole names only: `HERALD_PARTITIONS_<PRIORITY>` and `HERALD_BENCH_*` are families.
      for (const [name] of readFileSync(file, 'utf8').matchAll(/\bHERALD_[A-Z0-9_]+(?![A-Za-z0-9_<*$])/g)) {
        if (!name.endsWith('_') && !FAMILIES.includes(name) && !EXAMPLES.includes(name) && !named.has(name)) named.set(name, path);
      }
    }
    const unknown = unknownVariables(Object.fromEntries([...named.keys()].map((name) => [name, '1'])));
    expect(unknown.map(({ name }) => `${name} (${named.get(name)})`)).to.deep.equal([]);
    expect(named.size).to.be.greaterThan(70);
  });

  it("says who reads each HERALD_* variable that is not the apps'", () => {
    for (const [name, reader] of Object.entries({ ...OTHER_VARIABLES, ...OTHER_VARIABLE_PREFIXES })) {
      expect(name, reader).to.match(/^HERALD_/);
      expect(VARIABLES.map((variable) => variable.name)).not.to.include(name);
    }
  });
});
