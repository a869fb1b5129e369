// Reads sites.yaml into a YAML document that keeps source positions.

import { readFile } from "node:fs/promises";
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { ConfigError, type ConfigProblem } from "./errors.js";

/** sites.yaml files larger than this are rejected before parsing, to bound time and memory. */
export const maxConfigBytes = 1024 * 1024;

// YAML aliases expand into copies; more than this many is taken for an alias bomb.
const maxAliasCount = 100;

export interface LoadedConfig {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain data. */
  data: unknown;
}

export type Path = readonly (string | number)[];

/** Reads and parses a sites.yaml file; throws ConfigError on any syntax problem. */
export const loadConfig = async (file: string): Promise<LoadedConfig> => {
  const bytes = await readConfigBytes(file);
  const text = decodeUtf8(file, bytes);
  return parseConfigText(file, text);
};

/** Parses sites.yaml text; the file name only labels messages. */
export const parseConfigText = (file: string, text: string): LoadedConfig => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const syntaxProblems = [...doc.errors].map((error): ConfigProblem => {
    const position = lineCounter.linePos(error.pos[0]);
    return {
      file,
      line: position.line,
      col: position.col,
      key: "",
      message: describeYamlError(error.code, error.message, text.slice(error.pos[0], error.pos[1])),
      severity: "error",
    };
  });
  if (syntaxProblems.length > 0) throw new ConfigError(syntaxProblems);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount });
  } catch (error) {
    throw new ConfigError([
      {
        file,
        line: 0,
        col: 0,
        key: "",
        message: `cannot expand YAML aliases: ${(error as Error).message}`,
        fix: `write the values out instead of using more than ${maxAliasCount} alias expansions`,
        severity: "error",
      },
    ]);
  }
  return { file, doc, lineCounter, data: data ?? {} };
};

const readConfigBytes = async (file: string): Promise<Buffer> => {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "is a directory, not a file"
          : `cannot read: ${(error as Error).message}`;
    throw new ConfigError([
      { file, line: 0, col: 0, key: "", message, fix: "pass the path of sites.yaml with --config", severity: "error" },
    ]);
  }
  if (bytes.length > maxConfigBytes) {
    throw new ConfigError([
      {
        file,
        line: 0,
        col: 0,
        key: "",
        message: `file is ${bytes.length} bytes, more than the limit of ${maxConfigBytes}`,
        fix: "split styles and add-ons into their own files and refer to them by path",
        severity: "error",
      },
    ]);
  }
  return bytes;
};

// Decodes UTF-8 strictly and names the place of the first invalid byte.
const decodeUtf8 = (file: string, bytes: Buffer): string => {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const offset = findInvalidUtf8(bytes);
    const before = bytes.subarray(0, offset).toString("utf8");
    const lines = before.split("\n");
    return throwProblem({
      file,
      line: lines.length,
      col: (lines.at(-1)?.length ?? 0) + 1,
      key: "",
      message: `invalid UTF-8 byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, "0")} at byte offset ${offset}`,
      fix: "save the file as UTF-8",
      severity: "error",
    });
  }
};

const findInvalidUtf8 = (bytes: Buffer): number => {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let low = 0;
  let high = bytes.length;
  // Binary search for the shortest invalid prefix; a cut inside a valid
  // multi-byte character also fails, so the answer is within 3 bytes.
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    try {
      decoder.decode(bytes.subarray(0, middle + 1));
      low = middle + 1;
    } catch {
      high = middle;
    }
  }
  for (let start = Math.max(0, low - 3); start <= low; start++) {
    try {
      decoder.decode(bytes.subarray(0, start));
    } catch {
      return Math.max(0, start - 1);
    }
  }
  return low;
};

const throwProblem = (problem: ConfigProblem): never => {
  throw new ConfigError([problem]);
};

const describeYamlError = (code: string, message: string, source: string): string => {
  const firstLine = message.split("\n")[0] ?? message;
  if (code === "DUPLICATE_KEY") return `duplicate key ${JSON.stringify(source.split(":")[0]?.trim() ?? source)}; each key, and so each site name, may appear once`;
  if (code === "TAB_AS_INDENT") return "tab used for indentation; YAML indents with spaces only";
  return firstLine;
};

/** Finds the source position of a value (or of its key) in the document. */
export const locate = (
  config: Pick<LoadedConfig, "doc" | "lineCounter">,
  path: Path,
  at: "value" | "key" = "value",
): { line: number; col: number } => {
  let node: unknown = config.doc.contents;
  let keyNode: unknown;
  let lastFound: unknown = node;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (node !== null && typeof node === "object" && "items" in node && Array.isArray(node.items)) {
      keyNode = undefined;
      node = node.items[Number(segment)];
    } else {
      break;
    }
    lastFound = at === "key" && keyNode !== undefined ? keyNode : node ?? keyNode;
  }
  const range = (lastFound as { range?: [number, number, number] } | undefined)?.range;
  if (range === undefined) return { line: 1, col: 1 };
  return config.lineCounter.linePos(range[0]);
};
