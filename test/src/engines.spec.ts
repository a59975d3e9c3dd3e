import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

/*
 * The Node version the README promises, the root package's `engines`, and every locked
 * dependency's `engines` agree (issue 17.12: commander 15 needs Node 22.12, and `npm ci`
 * warned EBADENGINE on the Node 20 the README names).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const readJson = (path: string): unknown => JSON.parse(readFileSync(`${root}${path}`, 'utf8'));

type Version = [number, number, number];

const parse = (text: string): Version => {
  const [major = 0, minor = 0, patch = 0] = text
    .replace(/^v/, '')
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
  return [major, minor, patch];
};

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether `version` satisfies one comparator of an npm range (`>=20.19`, `^18.18.0`, `~1.2`, `20.x`, `*`). */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=|\^|~)?\s*v?([\dx*.]+)$/.exec(comparator.trim());
  if (match === null) throw new Error(`cannot read the engines range "${comparator}"`);
  const [, operator = '', text = ''] = match;
  if (text === '*' || text === 'x') return true;
  const parts = text.split('.');
  const wildcard = parts.findIndex((part) => part === 'x' || part === '*');
  const bound = parse(parts.map((part) => (part === 'x' || part === '*' ? '0' : part)).join('.'));
  const given = wildcard === -1 ? parts.length : wildcard;
  const order = compare(version, bound);
  switch (operator) {
    case '>=':
      return order >= 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    case '<':
      return order < 0;
    case '^': {
      if (order < 0) return false;
      const lead = bound[0] > 0 ? 0 : bound[1] > 0 ? 1 : 2;
      return version.slice(0, lead + 1).every((part, i) => part === bound[i]);
    }
    case '~':
      return order >= 0 && version[0] === bound[0] && (given < 2 || version[1] === bound[1]);
    default:
      // `20`, `20.x`, `20.19.0`: the parts given must match.
      return version.slice(0, given).every((part, i) => part === bound[i]);
  }
}

/** npm's range grammar, as far as engines fields use it: `||` alternatives of space-separated comparators, or `a - b`. */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) => {
    const hyphen = /^\s*([\d.]+)\s+-\s+([\d.]+)\s*$/.exec(alternative);
    if (hyphen !== null) {
      // A partial upper bound takes its whole range: `16 - 20` goes up to every 20.x.
      const upper = hyphen[2]!.split('.').length;
      const below = (a: number[], b: Version) => a.findIndex((part, i) => part !== b[i]);
      const top = parse(hyphen[2]!);
      const differs = below(version.slice(0, upper), top);
      return compare(version, parse(hyphen[1]!)) >= 0 && (differs === -1 || version[differs]! < top[differs]!);
    }
    return alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .filter((comparator) => comparator !== '')
      .every((comparator) => satisfiesComparator(version, comparator));
  });
}

describe('supported Node versions', () => {
  const rootPackage = readJson('package.json') as { engines: { node: string } };
  const lowest = parse(/^>=\s*([\d.]+)$/.exec(rootPackage.engines.node)?.[1] ?? '');

  it('names in the README the lowest Node the root package declares', () => {
    expect(rootPackage.engines.node).to.match(/^>=\s*\d+\.\d+$/);
    const readme = readFileSync(`${root}README.md`, 'utf8');
    expect(readme).to.contain(`Node ${lowest[0]}.${lowest[1]}+ is all you need`);
  });

  it('locks no dependency whose engines leave out that Node (regression: commander 15 needs Node 22.12; npm ci warned EBADENGINE)', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { engines?: { node?: string } | string[] }> };
    const refusing = Object.entries(lock.packages)
      .flatMap(([path, entry]) =>
        entry.engines !== undefined && !Array.isArray(entry.engines) && entry.engines.node !== undefined ? [[path, entry.engines.node] as const] : [],
      )
      .filter(([, range]) => !satisfies(lowest, range))
      .map(([path, range]) => `${path} (node ${range})`);
    expect(refusing).to.deep.equal([]);
  });

  it('reads npm ranges as npm does', () => {
    const v = parse('20.19.0');
    expect(satisfies(v, '>=20')).to.equal(true);
    expect(satisfies(v, '>=22.12.0')).to.equal(false);
    expect(satisfies(v, '^18.18.0 || ^20.9.0 || >=21.1.0')).to.equal(true);
    expect(satisfies(v, '^12.22.0 || ^14.17.0 || >=16.0.0')).to.equal(true);
    expect(satisfies(v, '^18.18.0')).to.equal(false);
    expect(satisfies(v, '>= 0.8')).to.equal(true);
    expect(satisfies(v, '20.x')).to.equal(true);
    expect(satisfies(v, '>=14 <20')).to.equal(false);
    expect(satisfies(v, '16 - 20')).to.equal(true);
  });
});
