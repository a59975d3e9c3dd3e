import { expect } from 'chai';
import { z } from 'zod';
import { ERROR_CODES, HeraldError, toHeraldError } from './index.js';

describe('HeraldError', () => {
  it('maps each code to its HTTP status', () => {
    expect(new HeraldError('invalid_request', 'x').status).to.equal(400);
    expect(new HeraldError('backlog_exceeded', 'x').status).to.equal(429);
    expect(new HeraldError('overloaded', 'x', { retryAfterSeconds: 2 })).to.include({ status: 429, retryAfterSeconds: 2 });
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(status, code).to.be.within(400, 599);
    }
  });

  it('serializes to the contract error shape, details only when present', () => {
    expect(new HeraldError('not_found', 'No such event.').toJSON()).to.deep.equal({
      error: { code: 'not_found', message: 'No such event.' },
    });
    const result = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: 'x' } });
    if (result.success) throw new Error('expected a failure');
    const body = HeraldError.invalid(result.error.issues).toJSON();
    expect(body.error.code).to.equal('invalid_request');
    expect(body.error.details).to.have.length(1);
    expect(body.error.details?.[0]?.path).to.equal('a.b');
  });

  it('turns an unknown throw into a 500 that reveals nothing', () => {
    const error = toHeraldError(new Error('secret connection string'));
    expect(error.status).to.equal(500);
    expect(error.message).not.to.contain('secret');
    expect(error.cause).to.be.instanceOf(Error);
  });
});
