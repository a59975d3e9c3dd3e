import { expect } from 'chai';
import { useDashboard } from './dashboard.fixture.js';

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

describe('dashboard login', () => {
  const dashboard = useDashboard();

  const PROTECTED = [
    '/admin',
    '/admin/',
    '/admin/tap',
    '/admin/api/overview',
    '/admin/api/tap',
    '/admin/api/events/evt-1',
    '/admin/queues',
    '/admin/queues/api/queues',
    '/admin/nothing-here',
  ];

  it('asks for a login on every page and API under /admin, with WWW-Authenticate and the JSON error', async () => {
    const { request } = await dashboard.start();
    for (const path of PROTECTED) {
      const res = await request(path, { authorization: null });
      expect(res.status, path).to.equal(401);
      expect(res.headers.get('www-authenticate'), path).to.equal('Basic realm="Herald"');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code, path).to.equal('unauthorized');
      expect(body.error.message, path).to.match(/log in/i);
    }
    const put = await request('/admin/queues/api/queues/deliver-web-high/retry/failed', { method: 'PUT', authorization: null });
    expect(put.status).to.equal(401);
  });

  it('refuses a wrong user, a wrong password and malformed credentials', async () => {
    const { request } = await dashboard.start({ HERALD_ADMIN_USER: 'ops', HERALD_ADMIN_PASSWORD: 's3cret:with:colons' });
    for (const authorization of [
      basic('ops', 'wrong'),
      basic('admin', 's3cret:with:colons'),
      basic('ops', 's3cret:with:colon'),
      basic('ops', ''),
      basic('admin', 'admin'),
      'Basic not-base64!',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Bearer dev-service-key',
    ]) {
      const res = await request('/admin/api/overview', { authorization });
      expect(res.status, authorization).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Basic realm="Herald"');
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('unauthorized');
    }
  });

  it('lets the configured admin in (admin / admin by default outside production)', async () => {
    const byDefault = await dashboard.start();
    expect((await byDefault.request('/admin/api/overview')).status).to.equal(200);
    const configured = await dashboard.start({ HERALD_ADMIN_USER: 'ops', HERALD_ADMIN_PASSWORD: 's3cret:with:colons' });
    const res = await configured.request('/admin', { authorization: basic('ops', 's3cret:with:colons') });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
  });

  it('keeps /healthz, /readyz and /metrics open', async () => {
    const { request } = await dashboard.start();
    expect(await (await request('/healthz', { authorization: null })).json()).to.deep.equal({ status: 'ok' });
    expect(await (await request('/readyz', { authorization: null })).json()).to.deep.equal({ status: 'ready' });
    const metrics = await request('/metrics', { authorization: null });
    expect(metrics.status).to.equal(200);
    expect(await metrics.text()).to.contain('herald_devices_online');
  });

  it('leads the root to /admin (regression: http://localhost:3300/ answered a JSON 404)', async () => {
    const { request } = await dashboard.start();
    const res = await request('/', { authorization: null, redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/admin');
  });

  it('answers an unknown route outside /admin with a JSON 404', async () => {
    const { request } = await dashboard.start();
    const res = await request('/nothing', { authorization: null });
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).to.equal('not_found');
  });
});
