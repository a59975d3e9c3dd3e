import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEFAULT_CATALOG, EventCatalog, loadCatalog } from './index.js';

describe('event catalog', () => {
  it('ships the five default types with their priorities', () => {
    const catalog = loadCatalog();
    expect(catalog.priorityOf('profile.maturity.changed')).to.equal('high');
    expect(catalog.priorityOf('plan.changed')).to.equal('high');
    expect(catalog.priorityOf('viewing.progress')).to.equal('medium');
    expect(catalog.priorityOf('mylist.updated')).to.equal('medium');
    expect(catalog.priorityOf('recommendations.updated')).to.equal('low');
    expect(catalog.get('recommendations.updated')?.staleAfterMs).to.be.at.most(60 * 60_000);
  });

  it('sends a type without platforms to every platform', () => {
    const catalog = new EventCatalog(DEFAULT_CATALOG);
    expect(catalog.platformsOf('plan.changed')).to.deep.equal(['web', 'tv', 'ios', 'android']);
    expect(catalog.platformsOf('recommendations.updated')).to.deep.equal(['web', 'tv']);
    expect(catalog.platformsOf('no.such.type')).to.equal(undefined);
  });

  it('collapses viewing progress by title unless the event names its own key', () => {
    const catalog = new EventCatalog(DEFAULT_CATALOG);
    expect(catalog.collapseKeyOf('viewing.progress', undefined, { titleId: 't1' })).to.equal('viewing.progress:t1');
    expect(catalog.collapseKeyOf('viewing.progress', 'mine', { titleId: 't1' })).to.equal('mine');
    expect(catalog.collapseKeyOf('plan.changed', undefined, { titleId: 't1' })).to.equal(undefined);
  });

  it('loads a catalog file and rejects an invalid one with every problem named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-catalog-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ 'a.b': { priority: 'low', staleAfterMs: 1000 } }));
    expect(loadCatalog(good).names()).to.deep.equal(['a.b']);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'a.b': { priority: 'urgent', staleAfterMs: -1 } }));
    expect(() => loadCatalog(bad)).to.throw(/a\.b\.priority[\s\S]*a\.b\.staleAfterMs/);
    expect(() => loadCatalog(join(dir, 'missing.json'))).to.throw(/Cannot read the event catalog/);
  });
});
