import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDebouncer } from "../../src/service/debounce.js";

describe("createDebouncer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("merges a burst into one call", () => {
    const calls: string[][] = [];
    const debouncer = createDebouncer<string>({ quietMs: 150, maxWaitMs: 1500 }, (items) => calls.push(items));
    debouncer.push("a");
    vi.advanceTimersByTime(100);
    debouncer.push("b");
    vi.advanceTimersByTime(100);
    debouncer.push("c");
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(149);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([["a", "b", "c"]]);
  });

  it("calls once per separate burst", () => {
    const calls: number[][] = [];
    const debouncer = createDebouncer<number>({ quietMs: 150, maxWaitMs: 1500 }, (items) => calls.push(items));
    debouncer.push(1);
    vi.advanceTimersByTime(200);
    debouncer.push(2);
    debouncer.push(3);
    vi.advanceTimersByTime(200);
    expect(calls).toEqual([[1], [2, 3]]);
  });

  it("flushes a never-ending burst at maxWaitMs", () => {
    const calls: number[][] = [];
    const debouncer = createDebouncer<number>({ quietMs: 150, maxWaitMs: 500 }, (items) => calls.push(items));
    for (let index = 0; index < 10; index++) {
      debouncer.push(index);
      vi.advanceTimersByTime(100);
    }
    expect(calls[0]).toEqual([0, 1, 2, 3, 4]);
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual([5, 6, 7, 8, 9]);
  });

  it("drops items on cancel", () => {
    const calls: number[][] = [];
    const debouncer = createDebouncer<number>({ quietMs: 150, maxWaitMs: 500 }, (items) => calls.push(items));
    debouncer.push(1);
    debouncer.cancel();
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual([]);
    debouncer.push(2);
    vi.advanceTimersByTime(150);
    expect(calls).toEqual([[2]]);
  });
});
