// Turns a burst of file events into one call: an editor's save is several
// events (write, rename, chmod) within a few milliseconds.

export interface DebounceOptions {
  /** The call happens once no event came for this long, in milliseconds. */
  quietMs: number;
  /** The call happens at the latest this long after the first event of a burst, in milliseconds. */
  maxWaitMs: number;
}

export interface Debouncer<T> {
  /** Adds an item to the burst and restarts the quiet period. */
  push: (item: T) => void;
  /** Drops the collected items without calling back. */
  cancel: () => void;
}

/** Calls `flush` with the items of each burst, in the order they came. */
export const createDebouncer = <T>(options: DebounceOptions, flush: (items: T[]) => void): Debouncer<T> => {
  let items: T[] = [];
  let quietTimer: NodeJS.Timeout | undefined;
  let maxTimer: NodeJS.Timeout | undefined;

  const clearTimers = (): void => {
    if (quietTimer !== undefined) clearTimeout(quietTimer);
    if (maxTimer !== undefined) clearTimeout(maxTimer);
    quietTimer = undefined;
    maxTimer = undefined;
  };

  const fire = (): void => {
    clearTimers();
    const burst = items;
    items = [];
    if (burst.length > 0) flush(burst);
  };

  return {
    push: (item) => {
      items.push(item);
      if (quietTimer !== undefined) clearTimeout(quietTimer);
      quietTimer = setTimeout(fire, options.quietMs);
      maxTimer ??= setTimeout(fire, options.maxWaitMs);
    },
    cancel: () => {
      clearTimers();
      items = [];
    },
  };
};
