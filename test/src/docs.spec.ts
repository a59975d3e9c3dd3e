import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { ERROR_CODES } from '@herald/contracts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const documents = [
  'README.md',
  ...readdirSync(`${root}docs`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('the documentation', () => {
  it('points only at files inside the repository, and at files that exist (regression: the README sent readers to ../shared/DESIGN.md)', () => {
    const broken: string[] = [];
    for (const document of documents) {
      const text = readFileSync(`${root}${document}`, 'utf8');
      // Markdown links, and paths written as code that leave the folder (`../x.md`).
      const targets = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g), ...text.matchAll(/`(\.\.\/[^`\s]+)`/g)].map((match) => match[1]!);
      for (const target of targets) {
        if (/^[a-z]+:/i.test(target)) continue;
        const path = resolve(dirname(`${root}${document}`), target);
        const inside = !relative(root, path).startsWith('..');
        if (!inside || !existsSync(path)) broken.push(`${document}: ${target}${inside ? ' (missing)' : ' (outside the repository)'}`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('keeps the public contract in docs/api.md, with every error code', () => {
    const api = readFileSync(`${root}docs/api.md`, 'utf8');
    for (const [code, status] of Object.entries(ERROR_CODES)) expect(api, code).to.match(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
    expect(readFileSync(`${root}README.md`, 'utf8')).to.contain('[docs/api.md](docs/api.md)');
  });
});
