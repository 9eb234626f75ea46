import { print, type DocumentNode } from 'graphql';
import WebSocket from 'ws';

/** How a socket ended: its close code and reason. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A graphql-transport-ws message as the server sends it. */
export interface ServerMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  } & Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface SocketOptions {
  /** The Origin header a browser would send; none by default, like a non-browser client. */
  readonly origin?: string;
  readonly headers?: Record<string, string>;
}

/** The WebSocket URL of an API base URL (http://host:port → ws://host:port/graphql). */
export function webSocketUrl(baseUrl: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/graphql`;
}

/**
 * A raw graphql-transport-ws client over a real socket, so tests see exactly what the server does:
 * every message, the close code and the reason.
 */
export class TestSocket {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<Closed>;
  /** Rejects when the upgrade is refused (the HTTP status is in the message). */
  readonly opened: Promise<void>;
  private readonly waiters = new Set<() => void>();
  private closedWith: Closed | undefined;

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) => {
        reject(new Error(`upgrade refused: ${response.statusCode}`));
        ws.terminate();
      });
      ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as ServerMessage;
      // Keep-alive pings are answered here, as every client must.
      if (message.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      this.messages.push(message);
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString('utf8') };
        resolve(this.closedWith);
        this.wake();
      });
    });
  }

  static open(baseUrl: string, options: SocketOptions = {}): TestSocket {
    const headers = { ...options.headers, ...(options.origin ? { origin: options.origin } : {}) };
    return new TestSocket(
      new WebSocket(webSocketUrl(baseUrl), 'graphql-transport-ws', { headers }),
    );
  }

  /** Opens a socket and sends `connection_init`; resolves once acknowledged or closed. */
  static async connect(
    baseUrl: string,
    payload?: Record<string, unknown>,
    options: SocketOptions = {},
  ): Promise<TestSocket> {
    const socket = TestSocket.open(baseUrl, options);
    await socket.opened;
    socket.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
    await socket.waitFor((message) => message.type === 'connection_ack').catch(() => undefined);
    return socket;
  }

  /** Connects with `Authorization: Bearer <token>` in the payload. */
  static withToken(
    baseUrl: string,
    token: string,
    options: SocketOptions = {},
  ): Promise<TestSocket> {
    return TestSocket.connect(baseUrl, { authorization: `Bearer ${token}` }, options);
  }

  get acknowledged(): boolean {
    return this.messages.some((message) => message.type === 'connection_ack');
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  subscribe(
    id: string,
    document: DocumentNode | string,
    variables?: Record<string, unknown>,
  ): void {
    const query = typeof document === 'string' ? document : print(document);
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** Messages of one operation (next, error, complete). */
  of(id: string): ServerMessage[] {
    return this.messages.filter((message) => message.id === id);
  }

  /** Resolves with the first message (seen or to come) that matches; rejects on close or time. */
  waitFor(match: (message: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.find(match);
        if (found) {
          resolve(found);
          return true;
        }
        if (this.closedWith) {
          reject(new Error(`socket closed ${this.closedWith.code} ${this.closedWith.reason}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (check()) done();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** The nth `next` payload of operation `id` (0-based), waiting for it. */
  async nextOf(id: string, index = 0, timeoutMs = 5000): Promise<ServerMessage['payload']> {
    await this.waitFor(
      () => this.of(id).filter((message) => message.type === 'next').length > index,
      timeoutMs,
    );
    return this.of(id).filter((message) => message.type === 'next')[index]!.payload;
  }

  /** Resolves with the close, or rejects if the socket is still open after `timeoutMs`. */
  closedWithin(timeoutMs: number): Promise<Closed> {
    return Promise.race([
      this.closed,
      new Promise<Closed>((_resolve, reject) =>
        setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
  }

  close(): Promise<Closed> {
    if (!this.closedWith) {
      if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
      else this.ws.close(1000);
    }
    return this.closed;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
