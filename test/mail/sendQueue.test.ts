import type { MailMessage } from '../../src/mail/message';
import { createMailQueue } from '../../src/mail/sendQueue';
import type { MailTransport } from '../../src/mail/transport';

const MESSAGE: MailMessage = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'https://app.example/reset-password?token=SECRET',
  html: '<a href="https://app.example/reset-password?token=SECRET">reset</a>',
  link: 'https://app.example/reset-password?token=SECRET',
};

interface Line {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function recorder() {
  const lines: Line[] = [];
  return {
    lines,
    logger: {
      info: (fields: object, message: string) =>
        lines.push({ level: 'info', fields: fields as Record<string, unknown>, message }),
      warn: (fields: object, message: string) =>
        lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
    },
  };
}

/** A transport failing its first `failures` sends. */
function flakyTransport(failures: number) {
  const sent: MailMessage[] = [];
  let calls = 0;
  const transport: MailTransport = {
    kind: 'smtp',
    send(message) {
      calls += 1;
      if (calls <= failures) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:25'));
      sent.push(message);
      return Promise.resolve();
    },
    close: () => undefined,
  };
  return { transport, sent, calls: () => calls };
}

describe('createMailQueue', () => {
  it('returns at once and delivers in the background', async () => {
    const { transport, sent } = flakyTransport(0);
    const queue = createMailQueue({ transport, logger: recorder().logger });
    queue.enqueue({ kind: 'password-reset', compose: () => Promise.resolve(MESSAGE) });
    expect(sent).toEqual([]);
    await queue.idle();
    expect(sent).toEqual([MESSAGE]);
    await queue.close();
  });

  it('composes jobs one at a time, in order, and sends nothing for a null message', async () => {
    const { transport, sent } = flakyTransport(0);
    const queue = createMailQueue({ transport, logger: recorder().logger });
    const order: number[] = [];
    for (const n of [1, 2, 3]) {
      queue.enqueue({
        kind: 'test',
        async compose() {
          await new Promise((resolve) => setTimeout(resolve, (4 - n) * 10));
          order.push(n);
          return n === 2 ? null : { ...MESSAGE, subject: String(n) };
        },
      });
    }
    await queue.idle();
    expect(order).toEqual([1, 2, 3]);
    expect(sent.map((message) => message.subject)).toEqual(['1', '3']);
    await queue.close();
  });

  it('retries a failed delivery and logs each failure with the request id, never the token', async () => {
    const { transport, sent, calls } = flakyTransport(2);
    const log = recorder();
    const queue = createMailQueue({ transport, logger: log.logger, retryDelaysMs: [10, 10, 10] });
    queue.enqueue({
      kind: 'password-reset',
      reqId: 'req-42',
      compose: () => Promise.resolve(MESSAGE),
    });
    await queue.idle();
    expect(calls()).toBe(3);
    expect(sent).toHaveLength(1);
    expect(log.lines.map((line) => [line.level, line.message, line.fields.attempt])).toEqual([
      ['warn', 'mail delivery failed; will retry', 1],
      ['warn', 'mail delivery failed; will retry', 2],
      ['info', 'mail delivered after retrying', 3],
    ]);
    expect(log.lines.every((line) => line.fields.reqId === 'req-42')).toBe(true);
    expect(JSON.stringify(log.lines)).not.toContain('SECRET');
    await queue.close();
  });

  it('gives up after the last retry', async () => {
    const { transport, calls } = flakyTransport(Infinity);
    const log = recorder();
    const queue = createMailQueue({ transport, logger: log.logger, retryDelaysMs: [5] });
    queue.enqueue({ kind: 'email-verification', compose: () => Promise.resolve(MESSAGE) });
    await queue.idle();
    expect(calls()).toBe(2);
    expect(log.lines.at(-1)).toMatchObject({
      level: 'warn',
      message: 'mail delivery failed; giving up',
      fields: {
        final: true,
        kind: 'email-verification',
        error: 'connect ECONNREFUSED 127.0.0.1:25',
      },
    });
    await queue.close();
  });

  it('logs a job whose composition failed and carries on with the next', async () => {
    const { transport, sent } = flakyTransport(0);
    const log = recorder();
    const queue = createMailQueue({ transport, logger: log.logger });
    queue.enqueue({ kind: 'broken', compose: () => Promise.reject(new Error('database away')) });
    queue.enqueue({ kind: 'fine', compose: () => Promise.resolve(MESSAGE) });
    await queue.idle();
    expect(sent).toEqual([MESSAGE]);
    expect(log.lines[0]).toMatchObject({
      message: 'mail not composed',
      fields: { kind: 'broken' },
    });
    await queue.close();
  });

  it('drops jobs beyond maxPending, and waiting retries at close, without hanging', async () => {
    const { transport } = flakyTransport(Infinity);
    const log = recorder();
    const queue = createMailQueue({
      transport,
      logger: log.logger,
      retryDelaysMs: [60_000],
      maxPending: 1,
    });
    queue.enqueue({ kind: 'first', compose: () => Promise.resolve(MESSAGE) });
    queue.enqueue({ kind: 'second', compose: () => Promise.resolve(MESSAGE) });
    expect(log.lines[0]).toMatchObject({ message: 'mail dropped: the send queue is full' });
    while (!log.lines.some((line) => line.message.includes('will retry'))) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const idle = queue.idle();
    await queue.close();
    await idle;
    expect(log.lines.at(-1)).toMatchObject({ fields: { dropped: 1 } });
  });
});
