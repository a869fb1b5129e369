// A one-pass reader for the plain YAML that sites.yaml is almost always
// written in: indented mappings, lists of values, one-line [ ] lists, plain
// and quoted text without escapes, whole numbers, true, false, null and
// comments. Loading and running the yaml package was most of what a
// reconcile with nothing to do cost. Any other text (anchors, tags,
// { } mappings, escapes, values over several lines, any mistake) makes
// this reader give up, and the yaml package reads the file with its full
// checks and messages. Both give the same data and places for a file that
// this reader accepts (test/config/yaml-simple.test.ts).

import { findLineStarts, placeId, type PlaceIndex } from "./places.js";

export interface SimpleYaml {
  data: Record<string, unknown>;
  places: PlaceIndex;
  lineStarts: number[];
  /**
   * At least the number of tokens the yaml package's lexer finds in the
   * text, for its limit on tokens: each run of spaces, punctuation mark,
   * comment, line feed and quoted value is one, each plain value two.
   */
  tokenBound: number;
}

// Control characters other than the line feed (tab and carriage return
// included), line and paragraph separators and byte-order marks.
const unusualCharacter = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

// A key this reader takes as text: the yaml package reads other keys
// differently (numbers, true, null) or needs quotes for them.
const simpleKey = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

// Plain values that the YAML 1.2 core schema reads as other than text. Whole numbers of
// up to 15 digits are read here; the other numbers make the reader give up.
const nullWord = /^(?:~|[Nn]ull|NULL)$/;
const trueWord = /^(?:[Tt]rue|TRUE)$/;
const falseWord = /^(?:[Ff]alse|FALSE)$/;
const wholeNumber = /^[0-9]{1,15}$/;
const otherNumber = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

// Characters that may not start a plain value, or start a form this reader leaves to the yaml package.
const specialStart = new Set(["-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", '"', "%", "@", "`"]);

// sites.yaml nests four levels: the top, sites, a site and its add-ons.
const maxDepth = 8;

const space = 32;

interface Container {
  indent: number;
  list: unknown[] | undefined;
  map: Record<string, unknown> | undefined;
  path: (string | number)[];
}

interface PendingKey {
  key: string;
  keyOffset: number;
  indent: number;
  parent: Container;
}

interface Value {
  value: unknown;
  /** Offset just after the value. */
  end: number;
}

// Thrown, without a stack trace, when the text is not of the simple kind.
const notSimple = { notSimple: true };
const giveUp = (): never => {
  throw notSimple;
};

/** Reads simple sites.yaml text; returns undefined when the yaml package has to read it. */
export const parseSimpleYaml = (text: string): SimpleYaml | undefined => {
  if (unusualCharacter.test(text)) return undefined;
  try {
    return new SimpleReader(text).read();
  } catch (error) {
    if (error === notSimple) return undefined;
    throw error;
  }
};

class SimpleReader {
  readonly #text: string;
  readonly #places: PlaceIndex = new Map();
  #tokens = 0;

  constructor(text: string) {
    this.#text = text;
  }

  read(): SimpleYaml {
    const text = this.#text;
    const lineStarts = findLineStarts(text);
    const stack: Container[] = [];
    let pending: PendingKey | undefined;
    let root: Record<string, unknown> | undefined;

    for (let index = 0; index < lineStarts.length; index++) {
      const start = lineStarts[index]!;
      const end = index + 1 < lineStarts.length ? lineStarts[index + 1]! - 1 : text.length;
      let at = start;
      while (at < end && text.charCodeAt(at) === space) at++;
      const indent = at - start;
      if (indent > 0) this.#tokens++;
      if (at === end) continue;
      if (text[at] === "#") {
        this.#tokens++;
        continue;
      }
      if (indent === 0 && (text.startsWith("---", at) || text.startsWith("...", at) || text[at] === "%")) giveUp();
      const isItem = text[at] === "-" && (at + 1 === end || text.charCodeAt(at + 1) === space);

      if (pending !== undefined) {
        const nested = indent > pending.indent || (indent === pending.indent && isItem);
        if (nested) stack.push(this.#open(pending, at, indent, isItem));
        pending = undefined;
        if (stack.length > maxDepth) giveUp();
      }
      if (root === undefined) {
        if (isItem) giveUp();
        root = {};
        stack.push({ indent, map: root, list: undefined, path: [] });
        this.#places.set(placeId([]), { value: at });
      }

      while (stack.length > 0 && stack[stack.length - 1]!.indent > indent) stack.pop();
      // A list may sit at the indentation of its key; a key line ends it.
      const last = stack[stack.length - 1];
      if (last !== undefined && last.list !== undefined && last.indent === indent && !isItem) stack.pop();
      const container = stack[stack.length - 1];
      if (container === undefined || container.indent !== indent) giveUp();
      if (isItem) this.#readItem(container!, at + 1, end);
      else pending = this.#readEntry(container!, at, end, indent);
    }
    if (root === undefined) giveUp();
    // Line feeds, and the mark of the document's start, plus a margin.
    const tokenBound = this.#tokens + lineStarts.length + 4;
    return { data: root!, places: this.#places, lineStarts, tokenBound };
  }

  // Opens the mapping or list that a key with nothing after its colon holds.
  #open(pending: PendingKey, at: number, indent: number, isItem: boolean): Container {
    const path = [...pending.parent.path, pending.key];
    const list = isItem ? [] : undefined;
    const map = isItem ? undefined : {};
    setKey(pending.parent.map!, pending.key, list ?? map);
    this.#places.set(placeId(path), { key: pending.keyOffset, value: at });
    return { indent, list, map, path };
  }

  // Reads "- value" into a list.
  #readItem(container: Container, from: number, end: number): void {
    if (container.list === undefined) giveUp();
    const list = container.list!;
    this.#tokens++;
    const at = this.#skipSpaces(from, end);
    if (at === end || this.#text[at] === "#") giveUp();
    const path = [...container.path, list.length];
    this.#places.set(placeId(path), { value: at });
    const { value, end: after } = this.#readValue(at, end, path);
    this.#expectLineEnd(after, end);
    list.push(value);
  }

  // Reads "key: value" or "key:" into a mapping; returns the key when its value follows on later lines.
  #readEntry(container: Container, at: number, end: number, indent: number): PendingKey | undefined {
    if (container.map === undefined) giveUp();
    const text = this.#text;
    const colon = text.indexOf(":", at);
    if (colon === -1 || colon >= end) giveUp();
    const key = text.slice(at, colon);
    if (!simpleKey.test(key) || isNotText(key) || Object.prototype.hasOwnProperty.call(container.map, key)) giveUp();
    this.#tokens += 3;
    const afterColon = colon + 1;
    if (afterColon < end && text.charCodeAt(afterColon) !== space) giveUp();
    const path = [...container.path, key];
    const valueAt = this.#skipSpaces(afterColon, end);
    if (valueAt === end || (text[valueAt] === "#" && valueAt > afterColon)) {
      if (valueAt < end) this.#tokens++;
      setKey(container.map!, key, null);
      this.#places.set(placeId(path), { key: at, value: undefined });
      return { key, keyOffset: at, indent, parent: container };
    }
    this.#places.set(placeId(path), { key: at, value: valueAt });
    const { value, end: after } = this.#readValue(valueAt, end, path);
    this.#expectLineEnd(after, end);
    setKey(container.map!, key, value);
    return undefined;
  }

  #readValue(at: number, end: number, path: (string | number)[]): Value {
    const char = this.#text[at]!;
    if (char === "[") return this.#readFlowList(at, end, path);
    if (char === '"' || char === "'") return this.#readQuoted(at, end);
    return this.#readPlain(at, end);
  }

  // A plain value runs to the end of the line or to a space and #.
  #readPlain(at: number, end: number): Value {
    const text = this.#text;
    if (specialStart.has(text[at]!)) giveUp();
    let stop = text.indexOf(" #", at);
    if (stop === -1 || stop > end) stop = end;
    let last = stop;
    while (last > at && text.charCodeAt(last - 1) === space) last--;
    const source = text.slice(at, last);
    // A colon and a space, or one at the end, would start a mapping.
    if (source.includes(": ") || source.endsWith(":")) giveUp();
    this.#tokens += 2;
    return { value: resolvePlain(source), end: last };
  }

  // A quoted value without escapes, closed on its line.
  #readQuoted(at: number, end: number): Value {
    const text = this.#text;
    const quote = text[at]!;
    const close = text.indexOf(quote, at + 1);
    if (close === -1 || close >= end) giveUp();
    const source = text.slice(at + 1, close);
    if (quote === '"' && source.includes("\\")) giveUp();
    if (quote === "'" && text[close + 1] === "'") giveUp();
    this.#tokens++;
    return { value: source, end: close + 1 };
  }

  // A [ ] list of plain or quoted values on one line.
  #readFlowList(at: number, end: number, path: (string | number)[]): Value {
    const text = this.#text;
    const list: unknown[] = [];
    this.#tokens += 2;
    let position = this.#skipSpaces(at + 1, end);
    if (text[position] === "]") return { value: list, end: position + 1 };
    for (;;) {
      if (position >= end) giveUp();
      this.#places.set(placeId([...path, list.length]), { value: position });
      const char = text[position]!;
      let item: Value;
      if (char === '"' || char === "'") {
        item = this.#readQuoted(position, end);
      } else {
        if (specialStart.has(char)) giveUp();
        let stop = position;
        while (stop < end && !",]:#[{}".includes(text[stop]!)) stop++;
        let last = stop;
        while (last > position && text.charCodeAt(last - 1) === space) last--;
        this.#tokens += 2;
        item = { value: resolvePlain(text.slice(position, last)), end: last };
      }
      list.push(item.value);
      position = this.#skipSpaces(item.end, end);
      if (text[position] === "]") return { value: list, end: position + 1 };
      if (text[position] !== ",") giveUp();
      this.#tokens++;
      position = this.#skipSpaces(position + 1, end);
      if (text[position] === "]") giveUp();
    }
  }

  // After a value: spaces, then nothing or a comment.
  #expectLineEnd(after: number, end: number): void {
    const at = this.#skipSpaces(after, end);
    if (at === end) return;
    if (this.#text[at] !== "#" || at === after) giveUp();
    this.#tokens++;
  }

  #skipSpaces(from: number, end: number): number {
    let at = from;
    while (at < end && this.#text.charCodeAt(at) === space) at++;
    if (at > from) this.#tokens++;
    return at;
  }
}

const isNotText = (source: string): boolean =>
  nullWord.test(source) || trueWord.test(source) || falseWord.test(source) || otherNumber.test(source);

const resolvePlain = (source: string): unknown => {
  if (nullWord.test(source)) return null;
  if (trueWord.test(source)) return true;
  if (falseWord.test(source)) return false;
  if (wholeNumber.test(source)) return Number(source);
  if (otherNumber.test(source)) giveUp();
  return source;
};

// defineProperty, so that a key named __proto__ becomes a property and not the prototype.
const setKey = (map: Record<string, unknown>, key: string, value: unknown): void => {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
};
