// A one-pass reader for plain YAML: indented mappings, lists of values,
// one-line [ ] lists, text without escapes, whole numbers, true, false, null
// and comments. Loading and running the yaml package was most of a no-op
// reconcile of 1000 sites. Any other text (anchors, tags, { } mappings,
// escapes, values over several lines, any mistake) goes to the yaml package,
// with its full checks and messages. For a text this reader accepts, both
// give the same data and places (test/config/yaml-simple.test.ts).

import type { PlaceIndex, SourcePlace } from "./places.js";

export interface SimpleYaml {
  data: Record<string, unknown>;
  /** Empty unless requested. */
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

// A key and its colon, then spaces or the end of the line. The yaml package
// reads other keys differently (numbers, true, null) or needs quotes for them.
const entryPattern = /([A-Za-z0-9_][A-Za-z0-9_.-]*):( +|$)/y;
const nonSpace = /[^ ]/;
const trailingSpaces = / +$/;
// The end of a line after a value: spaces, and after them a comment.
const lineEnd = /^(?:( +)(#.*)?)?$/;
// Characters that make this reader leave a plain value inside [ ] to the yaml package.
const flowSpecial = /[:#[\]{}]/;

// Plain values that the YAML 1.2 core schema reads as other than text. Whole
// numbers of up to 15 digits are read here, and other numbers go to the yaml package.
const nullWord = /^(?:~|[Nn]ull|NULL)$/;
const trueWord = /^(?:[Tt]rue|TRUE)$/;
const falseWord = /^(?:[Ff]alse|FALSE)$/;
const wholeNumber = /^[0-9]{1,15}$/;
const otherNumber = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

// Characters that may not start a plain value, or start a form this reader leaves to the yaml package.
const specialStart = new Set(["-", "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", '"', "%", "@", "`"]);

// sites.yaml nests four levels: the top, sites, a site and its add-ons.
const maxDepth = 8;

interface Container {
  indent: number;
  list: unknown[] | undefined;
  map: Record<string, unknown> | undefined;
  /** placeId of the container without its closing bracket, so a child's id is this, its key and "]". */
  openId: string;
}

interface PendingKey {
  key: string;
  keyOffset: number;
  indent: number;
  parent: Container;
}

// Thrown, without a stack trace, when the text is not of the simple kind.
const notSimple = { notSimple: true };
const giveUp = (): never => {
  throw notSimple;
};

/**
 * Reads simple sites.yaml text, or returns undefined when the yaml package
 * has to read it. Places are collected only on request, because only
 * messages use them, and a valid file usually gives none.
 */
export const parseSimpleYaml = (text: string, withPlaces = true): SimpleYaml | undefined => {
  if (unusualCharacter.test(text)) return undefined;
  try {
    return new SimpleReader(withPlaces).read(text);
  } catch (error) {
    if (error === notSimple) return undefined;
    throw error;
  }
};

// Reads line by line; split, search and regular expressions scan within a line.
class SimpleReader {
  readonly #places: PlaceIndex = new Map();
  readonly #withPlaces: boolean;
  #tokens = 0;

  constructor(withPlaces: boolean) {
    this.#withPlaces = withPlaces;
  }

  // placeId of a container's child without its closing bracket; empty when places are not wanted.
  #childId(parentId: string, key: string | number): string {
    if (!this.#withPlaces) return "";
    return `${parentId}${parentId === "[" ? "" : ","}${JSON.stringify(String(key))}`;
  }

  #place(openId: string, place: SourcePlace): void {
    if (this.#withPlaces) this.#places.set(`${openId}]`, place);
  }

  read(text: string): SimpleYaml {
    const lines = text.split("\n");
    const lineStarts: number[] = [];
    const stack: Container[] = [];
    let pending: PendingKey | undefined;
    let root: Record<string, unknown> | undefined;
    let start = 0;

    for (const line of lines) {
      lineStarts.push(start);
      const lineStart = start;
      start += line.length + 1;
      const found = line.search(nonSpace);
      const indent = found === -1 ? line.length : found;
      if (indent > 0) this.#tokens++;
      if (found === -1) continue;
      const first = line[indent]!;
      if (first === "#") {
        this.#tokens++;
        continue;
      }
      if (indent === 0 && (line.startsWith("---") || line.startsWith("...") || first === "%")) giveUp();
      const isItem = first === "-" && (line.length === indent + 1 || line[indent + 1] === " ");

      if (pending !== undefined) {
        const nested = indent > pending.indent || (indent === pending.indent && isItem);
        if (nested) stack.push(this.#open(pending, lineStart + indent, indent, isItem));
        pending = undefined;
        if (stack.length > maxDepth) giveUp();
      }
      if (root === undefined) {
        if (isItem) giveUp();
        root = {};
        stack.push({ indent, map: root, list: undefined, openId: "[" });
        this.#place("[", { value: lineStart + indent });
      }

      while (stack.length > 0 && stack[stack.length - 1]!.indent > indent) stack.pop();
      // A list may sit at the indentation of its key, and then a key line ends it.
      const last = stack[stack.length - 1];
      if (last !== undefined && last.list !== undefined && last.indent === indent && !isItem) stack.pop();
      const container = stack[stack.length - 1];
      if (container === undefined || container.indent !== indent) giveUp();
      if (isItem) this.#readItem(container!, line, lineStart, indent + 1);
      else pending = this.#readEntry(container!, line, lineStart, indent);
    }
    if (root === undefined) giveUp();
    // Line feeds, and the mark of the document's start, plus a margin.
    const tokenBound = this.#tokens + lineStarts.length + 4;
    return { data: root!, places: this.#places, lineStarts, tokenBound };
  }

  // Opens the mapping or list that is the value of a key with nothing after its colon.
  #open(pending: PendingKey, offset: number, indent: number, isItem: boolean): Container {
    const id = this.#childId(pending.parent.openId, pending.key);
    const list = isItem ? [] : undefined;
    const map = isItem ? undefined : {};
    setKey(pending.parent.map!, pending.key, list ?? map);
    this.#place(id, { key: pending.keyOffset, value: offset });
    return { indent, list, map, openId: id };
  }

  // Reads "- value" into a list.
  #readItem(container: Container, line: string, lineStart: number, from: number): void {
    if (container.list === undefined) giveUp();
    const list = container.list!;
    this.#tokens++;
    const column = this.#skipSpaces(line, from);
    if (column === line.length || line[column] === "#") giveUp();
    const id = this.#childId(container.openId, list.length);
    this.#place(id, { value: lineStart + column });
    list.push(this.#readValue(line, lineStart, column, id));
  }

  // Reads "key: value" or "key:" into a mapping. Returns the key when its value follows on later lines.
  #readEntry(container: Container, line: string, lineStart: number, indent: number): PendingKey | undefined {
    if (container.map === undefined) giveUp();
    entryPattern.lastIndex = indent;
    const match = entryPattern.exec(line);
    if (match === null) giveUp();
    const key = match![1]!;
    if (isNotText(key) || Object.prototype.hasOwnProperty.call(container.map, key)) giveUp();
    this.#tokens += match![2] === "" ? 3 : 4;
    const keyOffset = lineStart + indent;
    const id = this.#childId(container.openId, key);
    const column = entryPattern.lastIndex;
    if (column === line.length || line[column] === "#") {
      if (column < line.length) this.#tokens++;
      setKey(container.map!, key, null);
      this.#place(id, { key: keyOffset, value: undefined });
      return { key, keyOffset, indent, parent: container };
    }
    this.#place(id, { key: keyOffset, value: lineStart + column });
    setKey(container.map!, key, this.#readValue(line, lineStart, column, id));
    return undefined;
  }

  // Reads the value that starts at column and ends its line.
  #readValue(line: string, lineStart: number, column: number, openId: string): unknown {
    const char = line[column]!;
    if (char === "[") return this.#readFlowList(line, lineStart, column, openId);
    if (char === '"' || char === "'") {
      const { value, end } = this.#readQuoted(line, column);
      this.#expectLineEnd(line.slice(end));
      return value;
    }
    // A plain value runs to the end of the line or to a space and #.
    if (specialStart.has(char)) giveUp();
    const comment = line.indexOf(" #", column);
    const withSpaces = comment === -1 ? line.slice(column) : line.slice(column, comment + 1);
    const source = withSpaces.replace(trailingSpaces, "");
    // A colon and a space, or one at the end, would start a mapping.
    if (source.includes(": ") || source.endsWith(":")) giveUp();
    this.#tokens += 2;
    if (source.length < withSpaces.length) this.#tokens++;
    if (comment !== -1) this.#tokens++;
    return resolvePlain(source);
  }

  // A quoted value without escapes, closed on its line.
  #readQuoted(line: string, column: number): { value: string; end: number } {
    const quote = line[column]!;
    const close = line.indexOf(quote, column + 1);
    if (close === -1) giveUp();
    const value = line.slice(column + 1, close);
    if (quote === '"' && value.includes("\\")) giveUp();
    if (quote === "'" && line[close + 1] === "'") giveUp();
    this.#tokens++;
    return { value, end: close + 1 };
  }

  // A [ ] list of plain or quoted values on one line.
  #readFlowList(line: string, lineStart: number, column: number, openId: string): unknown[] {
    const close = line.indexOf("]", column);
    if (close === -1) giveUp();
    this.#tokens += 2;
    this.#expectLineEnd(line.slice(close + 1));
    const inner = line.slice(column + 1, close);
    const list: unknown[] = [];
    if (inner.replace(trailingSpaces, "") === "") {
      if (inner !== "") this.#tokens++;
      return list;
    }
    let offset = column + 1;
    for (const piece of inner.split(",")) {
      const leading = piece.search(nonSpace);
      if (leading === -1) giveUp();
      if (leading > 0) this.#tokens++;
      const itemColumn = offset + leading;
      const body = piece.slice(leading);
      let value: unknown;
      let length: number;
      if (body[0] === '"' || body[0] === "'") {
        const quoted = this.#readQuoted(line, itemColumn);
        value = quoted.value;
        length = quoted.end - itemColumn;
        // The closing quote is past this item's comma: the value contains one.
        if (length > body.length) giveUp();
      } else {
        const source = body.replace(trailingSpaces, "");
        if (specialStart.has(source[0]!) || flowSpecial.test(source)) giveUp();
        this.#tokens += 2;
        value = resolvePlain(source);
        length = source.length;
      }
      const rest = body.length - length;
      if (rest > 0) {
        if (body.slice(length).replace(trailingSpaces, "") !== "") giveUp();
        this.#tokens++;
      }
      this.#place(this.#childId(openId, list.length), { value: lineStart + itemColumn });
      list.push(value);
      offset += piece.length + 1;
    }
    this.#tokens += list.length - 1;
    return list;
  }

  // After a value: nothing, or spaces and then possibly a comment.
  #expectLineEnd(rest: string): void {
    const match = lineEnd.exec(rest);
    if (match === null) giveUp();
    if (match![1] !== undefined) this.#tokens++;
    if (match![2] !== undefined) this.#tokens++;
  }

  #skipSpaces(line: string, from: number): number {
    let column = from;
    while (line[column] === " ") column++;
    if (column > from) this.#tokens++;
    return column;
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

const setKey = (map: Record<string, unknown>, key: string, value: unknown): void => {
  // defineProperty for __proto__, so that it becomes a property and not the
  // prototype; a plain store for the others, which is several times faster.
  if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
};
