/**
 * Sample payloads for the demo's "send an event" buttons: realistic ones for the types Herald
 * ships, a generic one for any other type a custom catalog (`HERALD_CATALOG`) names. A new
 * sample each call, so repeated clicks are visibly different notifications.
 */

const TITLES = ['80100172', '81040344', '70143836', '80057281', '81231974'] as const;

const pick = <T>(items: readonly [T, ...T[]]): T => items[Math.floor(Math.random() * items.length)] ?? items[0];

const SAMPLES: Readonly<Record<string, () => Record<string, unknown>>> = {
  'profile.maturity.changed': () => ({ profileId: 'kids', maturityLevel: pick(['G', 'PG', 'PG-13']), previousLevel: 'TV-MA' }),
  'plan.changed': () =>
    pick([
      { plan: 'premium', streams: 4, resolution: '4K' },
      { plan: 'standard', streams: 2, resolution: '1080p' },
      { plan: 'basic', streams: 1, resolution: '720p' },
    ]),
  // Collapsed by titleId: sending it twice for one title leaves only the newer on pull.
  'viewing.progress': () => ({ titleId: pick(TITLES), positionSeconds: Math.floor(Math.random() * 3000), durationSeconds: 3120 }),
  'mylist.updated': () => ({ titleId: pick(TITLES), action: pick(['added', 'removed']) }),
  'recommendations.updated': () => ({ rows: ['Continue watching', 'Because you watched', 'Trending now'], generatedAt: new Date().toISOString() }),
};

/** A fresh sample payload for an event type. */
export function samplePayload(type: string): Record<string, unknown> {
  return SAMPLES[type]?.() ?? { demo: true, note: `a sample ${type} event` };
}
