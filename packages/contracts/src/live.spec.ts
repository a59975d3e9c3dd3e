import { expect } from 'chai';
import { LIVE_PUSHES_PER_MESSAGE, LiveMessageSchema, encodeLiveMessages, encodeLivePush, livePushPosition } from './live.js';
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
    const [message, ...rest] = encodeLiveMessages(pushes, { key: 'herald:{p:high:1}:traces:9', field: (m) => `@b:s:web:${m}` });
    expect(rest).to.deep.equal([]);
    const decoded = LiveMessageSchema.parse(JSON.parse(message!));
    expect(decoded.trace).to.deep.equal({ key: 'herald:{p:high:1}:traces:9', field: '@b:s:web:0' });
    expect(LiveMessageSchema.parse(JSON.parse(encodeLiveMessages(pushes)[0]!)).trace, 'tracing off').to.equal(undefined);
    expect(decoded.pushes).to.deep.equal(
      [1, 2, 3].map((n) => ({
        accountId: 'acct "quoted" \\ ü',
        deviceIds: [`web-${n}`, 'tv-1'],
        ...(prevs[n - 1] === undefined ? {} : { prev: prevs[n - 1] }),
        notification: notification(n),
      })),
    );
  });

  it(`split into messages of at most ${LIVE_PUSHES_PER_MESSAGE} pushes, keeping the order`, () => {
    const count = 2 * LIVE_PUSHES_PER_MESSAGE + 1;
    const pushes = Array.from({ length: count }, (_, n) => encodeLivePush(notification(n).accountId, ['d'], null, JSON.stringify(notification(n))));
    const messages = encodeLiveMessages(pushes, { key: 'k', field: (m) => `f${m}` }).map((m) => LiveMessageSchema.parse(JSON.parse(m)));
    expect(messages.map((m) => m.pushes.length)).to.deep.equal([LIVE_PUSHES_PER_MESSAGE, LIVE_PUSHES_PER_MESSAGE, 1]);
    expect(
      messages.map((m) => m.trace?.field),
      'each message its own trace field',
    ).to.deep.equal(['f0', 'f1', 'f2']);
    const ids = messages.flatMap((m) => m.pushes.map((push) => push.notification.id));
    expect(ids).to.deep.equal(Array.from({ length: count }, (_, n) => `e-${n}`));
    // Where the router says a push lands is where it is.
    for (const n of [0, 1, LIVE_PUSHES_PER_MESSAGE - 1, LIVE_PUSHES_PER_MESSAGE, count - 1]) {
      const [message, index] = livePushPosition(n);
      expect(messages[message]!.pushes[index]!.notification.id, `push ${n}`).to.equal(`e-${n}`);
    }
  });

  it("are refused by the schema when a push has no devices, a malformed notification or another account's devices", () => {
    const { accountId } = notification(1);
    expect(
      LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, ['d'], null, JSON.stringify(notification(1)))])[0]!)).success,
    ).to.equal(true);
    expect(
      LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, [], null, JSON.stringify(notification(1)))])[0]!)).success,
    ).to.equal(false);
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([encodeLivePush(accountId, ['d'], null, '{"id":"x"}')])[0]!)).success).to.equal(false);
    expect(LiveMessageSchema.safeParse({ pushes: [] }).success).to.equal(false);
    const otherAccount = encodeLivePush('someone-else', ['d'], null, JSON.stringify(notification(1)));
    expect(LiveMessageSchema.safeParse(JSON.parse(encodeLiveMessages([otherAccount])[0]!)).success).to.equal(false);
  });
});
