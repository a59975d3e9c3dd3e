import type { TokenSignal } from '../push-providers.js';

/** A "pull now" signal for `deviceId` with a push token, as the push delivery hands it to a provider. */
export function tokenSignal(deviceId: string, overrides: Partial<TokenSignal> = {}): TokenSignal {
  return {
    accountId: 'acct',
    deviceId,
    pushToken: `token-${deviceId}`,
    cursor: '1700000000000-0',
    eventIds: ['e1'],
    priority: 'high',
    acceptedAt: Date.now(),
    ...overrides,
  };
}
