import { expect } from 'chai';
import { z } from 'zod';
import { gunzipSync } from 'node:zlib';
import { ERROR_CODES } from './error-codes.js';
import { HeraldError, codeForClientStatus, toHeraldError } from './herald-error.js';

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

  describe("an error that is not Herald's own is never a 500 when the client caused it (regression: URIError and zlib errors became 500)", () => {
    const zlibError = (): unknown => {
      try {
        gunzipSync(Buffer.from('not gzip'));
      } catch (error) {
        return error;
      }
      throw new Error('expected zlib to fail');
    };
    const withStatus = (status: number, field: 'status' | 'statusCode' = 'status') => Object.assign(new Error('from a library'), { [field]: status });
    const cases: [string, () => unknown, string, number][] = [
      ["express's URIError for a malformed %-escape", () => Object.assign(new URIError('URI malformed'), { status: 400 }), 'invalid_request', 400],
      ['a bare URIError', () => new URIError('URI malformed'), 'invalid_request', 400],
      ["zlib's error on a corrupt body", zlibError, 'invalid_request', 400],
      ['an error with status 404', () => withStatus(404), 'not_found', 404],
      ['an error with statusCode 405', () => withStatus(405, 'statusCode'), 'method_not_allowed', 405],
      ['an error with status 413', () => withStatus(413), 'payload_too_large', 413],
      ['an error with status 429', () => withStatus(429), 'rate_limited', 429],
      ['an error with a 4xx status Herald has no code for (416)', () => withStatus(416), 'invalid_request', 400],
    ];
    for (const [what, make, code, status] of cases) {
      it(`maps ${what} to ${status} ${code}`, () => {
        const error = toHeraldError(make());
        expect(error.code).to.equal(code);
        expect(error.status).to.equal(status);
      });
    }

    it('keeps a message the thrower marked for clients (http-errors `expose`), and hides others', () => {
      expect(toHeraldError(Object.assign(new Error('range not satisfiable'), { status: 416, expose: true })).message).to.equal('range not satisfiable');
      expect(toHeraldError(withStatus(400)).message).not.to.contain('library');
      expect(toHeraldError(zlibError()).message).to.match(/Content-Encoding/);
    });

    it('leaves an error with a 5xx status, or none, a 500', () => {
      expect(toHeraldError(withStatus(502)).status).to.equal(500);
      expect(toHeraldError(new RangeError('Maximum call stack size exceeded')).status).to.equal(500);
    });

    it('maps each 4xx status of the code table back to its code', () => {
      for (const [code, status] of Object.entries(ERROR_CODES)) {
        // 429 has three codes; a foreign 429 is rate_limited.
        if (status < 500 && code !== 'backlog_exceeded' && code !== 'overloaded') expect(codeForClientStatus(status), code).to.equal(code);
      }
    });
  });
});
