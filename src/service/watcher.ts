// Watches sites.yaml and the files it refers to with chokidar.
//
// Editors and tools save in different ways. Some write in place. Others write
// a temporary file and rename it over the old one (vim, VS Code, emacs),
// delete and create the file (git checkout), or replace the target of a
// symbolic link. A watch on the file itself loses track after a rename, so
// each file is watched through its parent directory, filtered by name. For a
// symbolic link the directory of every link target is watched as well.

import { lstatSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { WatchTargets } from "./references.js";

/** Links followed per file before giving up, as a guard against loops. */
const maxLinkHops = 16;

// Names under the image flake that never change its fingerprint.
const ignoredTreeNames = /^(\.git|node_modules|\.direnv|result(-.*)?)$/;

export interface FileWatcherOptions {
  /** Called with the path of each file event that matters. */
  onChange: (path: string) => void;
  onError: (error: Error) => void;
}

/** A watch of sites.yaml, the files it names and the image flake; update() replaces what is watched. */
export class FileWatcher {
  readonly #options: FileWatcherOptions;
  #current: WatchSet | undefined;

  constructor(options: FileWatcherOptions) {
    this.#options = options;
  }

  /**
   * Watches exactly `targets` from now on and returns once chokidar has read
   * the directories. chokidar 4 reports "ready" only for the paths given at
   * the start, so a changed set gets new watchers, and the old ones close
   * after the new ones are ready, leaving no gap. Returns whether the set changed.
   */
  async update(targets: WatchTargets): Promise<boolean> {
    const interest = new Map<string, Set<string>>();
    const trees = new Set<string>();
    const addName = (dir: string, name: string): void => {
      const names = interest.get(dir) ?? new Set<string>();
      names.add(name);
      interest.set(dir, names);
    };
    for (const file of targets.files) {
      for (const [dir, name] of watchPointsOf(file)) addName(dir, name);
    }
    for (const tree of targets.trees) {
      if (isDirectory(tree)) trees.add(tree);
      else for (const [dir, name] of watchPointsOf(tree)) addName(dir, name);
    }
    const previous = this.#current;
    if (previous !== undefined && sameInterest(previous.interest, interest) && sameSet(previous.trees, trees)) return false;

    this.#current = await startWatchSet(interest, trees, this.#options);
    await previous?.close();
    return true;
  }

  /** Lists the watched directories with the names that matter in each, for logs and tests. */
  describe(): { files: Record<string, string[]>; trees: string[] } {
    const files: Record<string, string[]> = {};
    for (const [dir, names] of this.#current?.interest ?? []) files[dir] = [...names].sort();
    return { files, trees: [...(this.#current?.trees ?? [])].sort() };
  }

  async close(): Promise<void> {
    await this.#current?.close();
    this.#current = undefined;
  }
}

interface WatchSet {
  /** Directory → names in it that matter. */
  interest: Map<string, Set<string>>;
  trees: Set<string>;
  close: () => Promise<void>;
}

const startWatchSet = async (interest: Map<string, Set<string>>, trees: Set<string>, options: FileWatcherOptions): Promise<WatchSet> => {
  const matters = (path: string): boolean => interest.get(dirname(path))?.has(basename(path)) === true;
  const watchers: FSWatcher[] = [];
  const ready: Promise<void>[] = [];

  if (interest.size > 0) {
    // depth 0: only the entries of each directory, filtered by name.
    const files = watch([...interest.keys()], { depth: 0, ignoreInitial: true, ignored: (path) => !interest.has(path) && !matters(path) });
    files.on("all", (_event, path) => {
      if (matters(path)) options.onChange(path);
    });
    watchers.push(files);
    ready.push(onceReady(files));
  }
  if (trees.size > 0) {
    const treeWatcher = watch([...trees], { ignoreInitial: true, followSymlinks: false, ignored: (path) => ignoredTreeNames.test(basename(path)) });
    treeWatcher.on("all", (_event, path) => options.onChange(path));
    watchers.push(treeWatcher);
    ready.push(onceReady(treeWatcher));
  }
  for (const watcher of watchers) watcher.on("error", (error) => options.onError(error as Error));
  await Promise.all(ready);
  return { interest, trees, close: async () => void (await Promise.all(watchers.map((watcher) => watcher.close()))) };
};

/**
 * Returns the (directory, name) pairs that cover every way `path` can change:
 * the path itself, each symbolic link target on the way, and the fully
 * resolved file. A path that does not exist yet is covered through its
 * nearest existing ancestor, so that its creation is noticed.
 */
export const watchPointsOf = (path: string): [string, string][] => {
  const points: [string, string][] = [];
  let current = resolve(path);
  for (let hop = 0; hop < maxLinkHops; hop++) {
    points.push(...existingAncestorPoint(current));
    let target: string;
    try {
      if (!lstatSync(current).isSymbolicLink()) break;
      target = readlinkSync(current);
    } catch {
      break;
    }
    current = resolve(dirname(current), target);
  }
  try {
    const real = realpathSync(path);
    points.push([dirname(real), basename(real)]);
  } catch {
    // A dangling link or a missing file: the points above cover its creation.
  }
  return dedupePoints(points);
};

// The directory and name of `path`, or of the first missing component below
// the nearest directory that exists.
const existingAncestorPoint = (path: string): [string, string][] => {
  let child = path;
  let parent = dirname(path);
  while (!isDirectory(parent)) {
    if (dirname(parent) === parent) return [];
    child = parent;
    parent = dirname(parent);
  }
  return [[parent, basename(child)]];
};

const dedupePoints = (points: [string, string][]): [string, string][] => {
  const seen = new Set<string>();
  return points.filter(([dir, name]) => {
    const key = `${dir}\0${name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

const isDirectory = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

const sameSet = (a: Set<string> | undefined, b: Set<string>): boolean => a !== undefined && a.size === b.size && [...a].every((item) => b.has(item));

const sameInterest = (a: Map<string, Set<string>>, b: Map<string, Set<string>>): boolean =>
  a.size === b.size && [...b.entries()].every(([dir, names]) => sameSet(a.get(dir), names));

const onceReady = (watcher: FSWatcher): Promise<void> =>
  new Promise((resolveReady) => {
    watcher.once("ready", () => resolveReady());
  });
