import { expect } from 'chai';
import { LIVE_PUSHES_PER_MESSAGE, LiveMessageSchema, encodeLiveMessages, encodeLivePush } from './live.js';
import type { Notification } from './notification.js';

const notification = (n: number): Notification => ({
  id: `e-${n}`,
  cursor: `1700000000000-${n}`,
  type: 'mylist.updated',
  accountId: 'acct "quoted" \\ ü',
  payload: { title: 'Ünïcode "and" quotes', n },
  createdAt: new Date(1_700_000_000_000).toISOString(),
  priority: 'medium',
});

describe('live messages', () => {
  it('encode pushes that decode, with the schema, to the same notifications in order', () => {
    const prevs = [null, undefined, '1700000000000-2'];
    const pushes = [1, 2, 3].map((n) => encodeLivePush('acct "quoted" \\ ü', [`web-${n}`, 'tv-1'], prevs[n - 1], JSON.stringify(notification(n))));
    const [message, ...rest] = encodeLiveMessages(pushes, 'herald:{p:high:1}:traces:9');
    expect(rest).to.deep.equal([]);
    const decoded = LiveMessageSchema.parse(JSON.parse(message!));
    expect(decoded.trace).to.equal('herald:{p:high:1}:traces:9');
    expect(LiveMessageSchema.parse(JSON.parse(encodeLiveMessages(pushes)[0]!)).trace, 'tracing off').to.equal(undefined);
    expect(decoded.pushes).to.deep.equal([1, 2, 3].map((n) => ({
      accountId: 'acct "quoted" \\ ü',
      deviceIds: [`web-${n}`, 'tv-1'],
      ...(prevs[n - 1] === undefined ? {} : { prev: prevs[n - 1] }),
      notification: notification(n),
    })));
  });

  it(`split into messages of at most ${LIVE_PUSHES_PER_MESSAGE} pushes, keeping the order`, () => {
    const count = 2 * LIVE_PUSHES_PER_MESSAGE + 1;
    const pushes = Array.from({ length: count }, (_, n) => encodeLivePush(notification(n).accountId, ['d'], null, JSON.stringify(notification(n))));
    const messages = encodeLiveMessages(pushes);
    expect(messages.map((m) => LiveMessageSchema.parse(JSON.parse(m)).pushes.length)).to.deep.equal([LIVE_PUSHES_PER_MESSAGE, LIVE_PUSHES_PER_MESSAGE, 1]);
    const ids = messages.flatMap((m) => LiveMessageSchema.parse(JSON.parse(m)).pushes.map((push) => push.notification.id));
    expect(ids).to.deep.equal(Array.from({ length: count }, (_, n) => `e-${n}`));
  });

  it("are refused by the schema when a push has no devices, a malformed notification or another account's devices", () => {
    const { accountId } = notification(1);
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, ['d'], null, JSON.stringify(notification(1)))])[0]!)).success).to.equal(true);
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, [], null, JSON.stringify(notification(1)))])[0]!)).success).to.equal(false);
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, ['d'], null, '{"id":"x"}')])[0]!)).success).to.equal(false);
    expect(LiveMessageSchema.safeParse({ pushes: [] }).success).to.equal(false);
    const otherAccount = encodeLivePush('someone-else', ['d'], null, JSON.stringify(notification(1)));
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([otherAccount])[0]!)).success).to.equal(false);
  });
});
