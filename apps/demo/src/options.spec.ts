import { expect } from 'chai';
import { ConfigError, loadConfig } from '@herald/config';
import { demoOptionsFrom, resolveDemoOptions } from './options.js';

describe('demo options', () => {
  const valid = { ingestUrl: 'http://127.0.0.1:3100/', gatewayUrl: 'http://localhost:3200', serviceKey: 'dev-service-key' };

  it('merges the defaults and drops a trailing slash from the URLs', () => {
    expect(resolveDemoOptions(valid)).to.deep.equal({
      ingestUrl: 'http://127.0.0.1:3100',
      gatewayUrl: 'http://localhost:3200',
      serviceKey: 'dev-service-key',
      ingestTimeoutMs: 5_000,
    });
  });

  it('refuses URLs that are not http(s), an empty service key and a timeout that is not a positive integer', () => {
    expect(() => resolveDemoOptions({ ...valid, ingestUrl: 'ingest:3100' })).to.throw(RangeError, /ingestUrl must be an http\(s\) URL/);
    expect(() => resolveDemoOptions({ ...valid, gatewayUrl: 'ws://localhost:3200' })).to.throw(RangeError, /gatewayUrl must be an http\(s\) URL/);
    expect(() => resolveDemoOptions({ ...valid, serviceKey: '' })).to.throw(RangeError, /serviceKey must not be empty/);
    expect(() => resolveDemoOptions({ ...valid, ingestTimeoutMs: 0 })).to.throw(RangeError, /ingestTimeoutMs/);
  });

  it('takes ingest, the gateway and the first service key from the config', () => {
    const config = loadConfig(
      { HERALD_SERVICE_KEYS: 'demo:0123456789,other:abcdefghij', HERALD_DEMO: 'true', INGEST_PORT: '4100', GATEWAY_PORT: '4200' },
      'demo',
    );
    expect(demoOptionsFrom(config)).to.deep.equal({ ingestUrl: 'http://127.0.0.1:4100', gatewayUrl: 'http://localhost:4200', serviceKey: '0123456789' });
  });

  it('refuses to run in production, saying it is a development aid', () => {
    const config = loadConfig({ NODE_ENV: 'production', HERALD_SERVICE_KEYS: 'demo:0123456789', HERALD_DEMO: 'true' }, 'demo');
    expect(() => demoOptionsFrom(config)).to.throw(ConfigError, /does not run in production/);
  });

  it('refuses to run with real service keys unless HERALD_DEMO=true, naming both variables', () => {
    const config = loadConfig({ HERALD_SERVICE_KEYS: 'demo:0123456789' }, 'demo');
    expect(() => demoOptionsFrom(config)).to.throw(ConfigError, /HERALD_SERVICE_KEYS is set without HERALD_DEMO=true/);
    expect(() => demoOptionsFrom(loadConfig({ HERALD_DEMO: 'false' }, 'demo'))).to.throw(ConfigError, /HERALD_DEMO=false/);
  });
});
