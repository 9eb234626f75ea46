/**
 * Runs `task` while holding the lock called `name`, so that only one refresh at a time reads and
 * replaces the stored refresh token.
 */
export type RefreshLock = <T>(name: string, task: () => Promise<T>) => Promise<T>;

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/**
 * A lock shared by everything in this process or page that uses the same instance, for several
 * clients over one storage without the Web Locks API.
 */
export function createInProcessLock(): RefreshLock {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(name: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(name) ?? Promise.resolve();
    const run = previous.then(() => task());
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(name, tail);
    void tail.then(() => {
      if (tails.get(name) === tail) tails.delete(name);
    });
    return run;
  };
}

/**
 * The Web Locks API where there is one (browsers: held across every tab of the origin), else a
 * lock for this process alone.
 */
export function defaultRefreshLock(): RefreshLock {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (locks) return (name, task) => locks.request(name, task);
  return createInProcessLock();
}
