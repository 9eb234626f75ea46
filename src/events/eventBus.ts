import type { SecurityNotice } from './securityEvents';

export type NoticeListener = (notice: SecurityNotice) => void;

/** Where an event bus stands, for `/ready` (docs/operations.md). */
export type BusHealth =
  { readonly kind: 'memory' } | { readonly kind: 'redis'; readonly ready: boolean };

/**
 * Carries security notices to the listeners of this instance and, with Redis, of every instance
 * (docs/subscriptions.md). Publishing never throws: a notice is a side effect of a flow that has
 * already succeeded.
 */
export interface EventBus {
  /** Delivers `notice` here at once and, when configured, to the other instances. */
  publish(notice: SecurityNotice): void;
  /** Listens to one user's notices; returns the way to stop. */
  listenTo(userId: string, listener: NoticeListener): () => void;
  /** Listens to every notice (the connection registry); returns the way to stop. */
  listenAll(listener: NoticeListener): () => void;
  /** False while notices from other instances cannot arrive (Redis unreachable). */
  available(): boolean;
  health(): BusHealth;
  close(): Promise<void>;
}

/** The listeners of one instance, by user. Both buses deliver through it. */
export class LocalFanOut {
  private readonly byUser = new Map<string, Set<NoticeListener>>();
  private readonly all = new Set<NoticeListener>();

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  deliver(notice: SecurityNotice): void {
    const listeners = [...this.all, ...(this.byUser.get(notice.userId) ?? [])];
    for (const listener of listeners) {
      try {
        listener(notice);
      } catch (error) {
        // One broken listener must not keep the notice from the others.
        this.onListenerError(error);
      }
    }
  }

  listenTo(userId: string, listener: NoticeListener): () => void {
    let set = this.byUser.get(userId);
    if (!set) {
      set = new Set();
      this.byUser.set(userId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.byUser.get(userId) === set) this.byUser.delete(userId);
    };
  }

  listenAll(listener: NoticeListener): () => void {
    this.all.add(listener);
    return () => {
      this.all.delete(listener);
    };
  }
}

/** The default bus: this instance only (docs/subscriptions.md, "Several instances"). */
export function createMemoryEventBus(
  onListenerError: (error: unknown) => void = () => undefined,
): EventBus {
  const fanOut = new LocalFanOut(onListenerError);
  return {
    publish: (notice) => fanOut.deliver(notice),
    listenTo: (userId, listener) => fanOut.listenTo(userId, listener),
    listenAll: (listener) => fanOut.listenAll(listener),
    available: () => true,
    health: () => ({ kind: 'memory' }),
    close: () => Promise.resolve(),
  };
}
