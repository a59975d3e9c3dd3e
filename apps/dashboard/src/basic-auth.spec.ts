import { expect } from 'chai';
import { basicCredentials } from './basic-auth.js';

const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('basicCredentials', () => {
  it('reads the user and the password, which may hold colons and any UTF-8', () => {
    expect(basicCredentials(`Basic ${encode('admin:admin')}`)).to.deep.equal({ user: 'admin', password: 'admin' });
    expect(basicCredentials(`basic  ${encode('ops:a:b:ç')}`)).to.deep.equal({ user: 'ops', password: 'a:b:ç' });
    expect(basicCredentials(`Basic ${encode(':')}`)).to.deep.equal({ user: '', password: '' });
  });

  it('gives nothing for a missing, foreign or malformed header', () => {
    for (const header of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', `Basic ${encode('no colon')}`, `Basic ${encode('a:b')} extra`]) {
      expect(basicCredentials(header), String(header)).to.equal(undefined);
    }
  });
});
