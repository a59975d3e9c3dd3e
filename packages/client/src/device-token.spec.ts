import { expect } from 'chai';
import { cursorStorageKey, readTokenClaims } from './device-token.js';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: unknown) => `${base64url({ alg: 'HS256' })}.${base64url(claims)}.signature`;

describe('device token claims', () => {
  it('reads the account and device of a token, unicode included, for the cursor key', () => {
    const token = jwt({ sub: 'télé-1', acc: 'acct:1', plt: 'tv' });
    expect(readTokenClaims(token)).to.deep.equal({ accountId: 'acct:1', deviceId: 'télé-1' });
    expect(cursorStorageKey(token)).to.equal(`herald:cursor:${encodeURIComponent('acct:1')}:${encodeURIComponent('télé-1')}`);
  });

  it('falls back to a key per token when the token is not a Herald JWT', () => {
    expect(readTokenClaims('opaque-token')).to.equal(undefined);
    expect(cursorStorageKey('opaque-token')).to.equal('herald:cursor:token:opaque-token');
  });
});
