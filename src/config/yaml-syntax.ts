// Checks the YAML syntax of sites.yaml before it is composed into a document,
// and rewrites the yaml package's syntax errors into messages with a fix.

import { Lexer, Parser, type CST, type LineCounter, type YAMLError } from "yaml";
import { formatKeyPath, type ConfigProblem } from "./errors.js";
import { maxNestingDepth, maxTokens } from "./yaml-limits.js";

/** Facts about the syntax tree that the composer's errors do not give. */
export interface CstFacts {
  /** Problems found in the tree: unclosed quotes and brackets, too deep nesting and extra documents. */
  problems: ConfigProblem[];
  /** Offsets and source text of every explicit tag such as `!!str`, in file order. */
  tags: { offset: number; source: string }[];
  /** Whether nesting passes maxNestingDepth, so the tree must not be composed. */
  tooDeep: boolean;
}

// The lexer marks the start of documents and scalars with these control
// characters, which take no room in the source.
const zeroWidthTokens = new Set(["\u0002", "\u0018", "\u001f"]);

export interface TokenScan {
  /** Offset of the first `[` or `{` nested deeper than maxNestingDepth. */
  deepBracket?: number;
  /** Whether the text contains more than maxTokens tokens. */
  tooManyTokens: boolean;
}

/**
 * Lexes the text once to find what would make parsing slow: too many tokens,
 * or brackets nested too deep, on which the yaml parser takes seconds. It
 * stops at the first of these.
 */
export const scanTokens = (text: string): TokenScan => {
  let offset = 0;
  let depth = 0;
  let count = 0;
  for (const token of new Lexer().lex(text)) {
    count++;
    if (count > maxTokens) return { tooManyTokens: true };
    if (token === "[" || token === "{") {
      depth++;
      if (depth > maxNestingDepth) return { deepBracket: offset, tooManyTokens: false };
    } else if ((token === "]" || token === "}") && depth > 0) {
      depth--;
    }
    if (!zeroWidthTokens.has(token)) offset += token.length;
  }
  return { tooManyTokens: false };
};

/** Parses text into syntax tree tokens, feeding line starts to lineCounter. */
export const parseTokens = (text: string, lineCounter: LineCounter): CST.Token[] => [...new Parser(lineCounter.addNewLine).parse(text)];

interface PendingNode {
  token: CST.Token;
  depth: number;
  path: (string | number)[];
}

/** Walks the syntax tree once, without recursion, and collects CstFacts. */
export const inspectTokens = (file: string, tokens: CST.Token[], lineCounter: LineCounter): CstFacts => {
  const problems: ConfigProblem[] = [];
  const tags: CstFacts["tags"] = [];
  const at = (offset: number, path: (string | number)[], message: string, fix: string): ConfigProblem => ({
    file,
    ...lineCounter.linePos(offset),
    key: formatKeyPath(path),
    message,
    fix,
    severity: "error",
  });

  const documents = tokens.filter((token) => token.type === "document");
  if (documents.length > 1) {
    problems.push(
      at(documents[1]!.offset, [], "the file contains more than one YAML document", "remove the --- line and everything after it, or merge the documents into one"),
    );
  }

  const pending: PendingNode[] = documents.map((token) => ({ token, depth: 0, path: [] }));
  let tooDeep = false;
  while (pending.length > 0) {
    const { token, depth, path } = pending.pop()!;
    collectTags(token, tags);
    switch (token.type) {
      case "document":
        for (const part of token.start) collectTags(part, tags);
        if (token.value !== undefined) pending.push({ token: token.value, depth, path });
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection": {
        if (depth + 1 > maxNestingDepth) {
          if (!tooDeep) {
            problems.push(
              at(token.offset, path, `lists and mappings nest more than ${maxNestingDepth} levels deep here`, "check the indentation and brackets, because sites.yaml nests only four levels deep (the top, sites, a site and its add-ons)"),
            );
          }
          tooDeep = true;
          break;
        }
        if (token.type === "flow-collection" && !isFlowCollectionClosed(token)) {
          const isList = token.start.source === "[";
          const closer = isList ? "]" : "}";
          const message = `unclosed ${token.start.source}: the ${isList ? "list" : "mapping"} that starts here has no closing ${closer}`;
          problems.push(at(token.start.offset, path, message, `add ${closer} after its last item`));
        }
        token.items.forEach((item, index) => {
          // Items of a list have no separator; pairs of a mapping have a colon.
          const inList = token.type === "block-seq" || item.sep === undefined;
          const itemPath = inList ? [...path, index] : [...path, keySource(item.key) ?? index];
          for (const part of [...item.start, ...(item.sep ?? [])]) collectTags(part, tags);
          if (item.key !== undefined && item.key !== null) pending.push({ token: item.key, depth: depth + 1, path: itemPath });
          if (item.value !== undefined) pending.push({ token: item.value, depth: depth + 1, path: itemPath });
        });
        break;
      }
      case "double-quoted-scalar":
      case "single-quoted-scalar":
        if (!isQuoteClosed(token.source)) {
          const quote = token.type === "double-quoted-scalar" ? '"' : "'";
          problems.push(
            at(token.offset, path, `unclosed ${quote === '"' ? "double" : "single"} quote: the string that starts here has no closing ${quote}`, `add ${quote} at the end of the value, or remove the opening one`),
          );
        }
        break;
      default:
        break;
    }
  }
  tags.sort((a, b) => a.offset - b.offset);
  return { problems: problems.sort((a, b) => a.line - b.line || a.col - b.col), tags, tooDeep };
};

const collectTags = (token: CST.Token | CST.SourceToken, tags: CstFacts["tags"]): void => {
  if (token.type === "tag") tags.push({ offset: token.offset, source: token.source });
  if (token.type === "block-scalar") for (const prop of token.props) collectTags(prop, tags);
};

const keySource = (key: CST.Token | null | undefined): string | undefined => {
  if (key === undefined || key === null) return undefined;
  if (key.type === "scalar") return key.source.trim();
  if (key.type === "double-quoted-scalar" || key.type === "single-quoted-scalar") return key.source.slice(1, -1);
  return undefined;
};

const isFlowCollectionClosed = (token: CST.FlowCollection): boolean =>
  token.end.some((part) => part.type === "flow-map-end" || part.type === "flow-seq-end");

// A double-quoted string is closed by a quote that no backslash escapes. In a
// single-quoted string '' stands for one quote, so it is closed when the
// quotes at its end are odd in number.
const isQuoteClosed = (source: string): boolean => {
  const quote = source[0]!;
  const body = source.slice(1);
  if (!body.endsWith(quote)) return false;
  if (quote === "'") return countTrailing(body, "'") % 2 === 1;
  return countTrailing(body.slice(0, -1), "\\") % 2 === 0;
};

const countTrailing = (text: string, char: string): number => {
  let count = 0;
  while (count < text.length && text[text.length - 1 - count] === char) count++;
  return count;
};

/**
 * Turns the composer's syntax errors into problems. Errors after an unclosed
 * quote or bracket follow from it, so only the ones before it are kept, and
 * of several errors at one place only the first.
 */
export const describeSyntaxErrors = (
  file: string,
  text: string,
  errors: readonly YAMLError[],
  lineCounter: LineCounter,
  facts: CstFacts,
): ConfigProblem[] => {
  const firstUnclosed = facts.problems.reduce((first, problem) => Math.min(first, offsetOf(lineCounter, problem)), Infinity);
  const seen = new Set<number>();
  const problems: ConfigProblem[] = [...facts.problems];
  for (const error of errors) {
    const offset = error.pos[0];
    if (offset >= firstUnclosed || seen.has(offset)) continue;
    if (error.code === "MULTIPLE_DOCS") continue;
    seen.add(offset);
    problems.push(describeSyntaxError(file, text, error, lineCounter));
  }
  return problems;
};

const offsetOf = (lineCounter: LineCounter, problem: ConfigProblem): number =>
  (lineCounter.lineStarts[problem.line - 1] ?? 0) + problem.col - 1;

const describeSyntaxError = (file: string, text: string, error: YAMLError, lineCounter: LineCounter): ConfigProblem => {
  const base = { file, key: "", severity: "error" as const };
  const offset = error.pos[0];
  switch (error.code) {
    case "TAB_AS_INDENT":
      return { ...base, ...lineCounter.linePos(offset), message: "tab character used for indentation", fix: "indent with spaces, because YAML does not allow tabs there" };
    case "BAD_INDENT":
      if (error.message.startsWith("All mapping items")) return describeBadIndent(base, text, offset, lineCounter);
      return { ...base, ...lineCounter.linePos(offset), message: "bad indentation", fix: "indent the lines of a [ ] list or { } mapping that spans lines further than its key, and close it" };
    case "MULTILINE_IMPLICIT_KEY":
    case "BLOCK_AS_IMPLICIT_KEY": {
      const position = lineCounter.linePos(offset);
      return {
        ...base,
        ...position,
        message: `a key cannot span lines: ${JSON.stringify(twoLinesFrom(text, offset))} reads as one key`,
        fix: `end each key with a colon, and indent line ${position.line + 1} deeper than line ${position.line} only if line ${position.line} is a key that ends with a colon`,
      };
    }
    case "BAD_DQ_ESCAPE":
      return {
        ...base,
        ...lineCounter.linePos(offset),
        message: `invalid escape ${text.slice(offset, offset + 2)} in a double-quoted string`,
        fix: "write \\\\ for a backslash, or use single quotes, in which a backslash is an ordinary character",
      };
    case "BAD_SCALAR_START": {
      const char = text[offset] ?? "";
      return { ...base, ...lineCounter.linePos(offset), message: `a plain value cannot start with ${JSON.stringify(char)}`, fix: "put the value in quotes" };
    }
    default:
      return { ...base, ...lineCounter.linePos(offset), message: `invalid YAML: ${lowerFirst(error.message.split("\n")[0] ?? error.message)}`, fix: "correct the YAML syntax at this place" };
  }
};

// Returns the text from offset to the end of the next line, up to the colon
// that ends the key there.
const twoLinesFrom = (text: string, offset: number): string => {
  const firstEnd = text.indexOf("\n", offset);
  const secondEnd = firstEnd === -1 ? -1 : text.indexOf("\n", firstEnd + 1);
  const lines = text.slice(offset, secondEnd === -1 ? text.length : secondEnd);
  const colon = lines.indexOf(":", firstEnd - offset);
  return (colon === -1 ? lines : lines.slice(0, colon)).slice(0, 80);
};

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

// "All mapping items must start at the same column": names the key on the
// line and the indentations that the lines above it use.
const describeBadIndent = (
  base: { file: string; key: string; severity: "error" },
  text: string,
  offset: number,
  lineCounter: LineCounter,
): ConfigProblem => {
  const { line } = lineCounter.linePos(offset);
  const lines = text.split("\n");
  const current = lines[line - 1] ?? "";
  const indent = indentationOf(current);
  const name = current.trim().split(":")[0]!.slice(0, 40);
  const choices: string[] = [];
  let limit = Infinity;
  for (let index = line - 2; index >= 0 && choices.length < 2; index--) {
    const above = lines[index]!;
    if (above.trim() === "" || above.trim().startsWith("#")) continue;
    const aboveIndent = indentationOf(above);
    if (aboveIndent >= limit) continue;
    limit = aboveIndent;
    if (aboveIndent !== indent) choices.push(`${aboveIndent} like line ${index + 1}`);
  }
  const fix =
    choices.length === 0
      ? "indent the keys of one mapping by the same number of spaces"
      : `indent it by ${choices.join(", or by ")}, so that it lines up with the keys of the mapping it belongs to`;
  return { ...base, line, col: indent + 1, message: `${JSON.stringify(name)} is indented by ${indent} spaces, which matches no mapping above it`, fix };
};

const indentationOf = (line: string): number => line.length - line.trimStart().length;
