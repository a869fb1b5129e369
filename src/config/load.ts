// Reads sites.yaml into plain data and the source position of each key and value.

import { readFileSync } from "node:fs";
import { ConfigError, throwProblem, type ConfigProblem } from "./errors.js";
import { linePositions, placeId, type LinePositions, type PlaceIndex } from "./places.js";
import { maxTokens } from "./yaml-limits.js";
import { parseSimpleYaml } from "./yaml-simple.js";

/**
 * sites.yaml files larger than this are rejected before parsing, to bound
 * time and memory. A file of a thousand sites with a few settings each is
 * about 100 KiB. The yaml parser's time grows with the number of nodes, and a
 * file this size made only of tiny nodes ([],[],...) takes it about half a
 * second (measured by test/config/corpus.test.ts).
 */
export const maxConfigBytes = 128 * 1024;

export interface LoadedConfig {
  file: string;
  lineCounter: LinePositions;
  /** The document as plain data. */
  data: unknown;
  /** Positions of the keys and values of the data in the text. */
  places: PlaceIndex;
  /**
   * Problems found while loading that leave the data usable, such as a
   * duplicate key or a YAML tag, so that the schema checks still run.
   */
  problems: ConfigProblem[];
}

export type Path = readonly (string | number)[];

/** Reads and parses a sites.yaml file; throws ConfigError on any syntax problem. */
export const loadConfig = async (file: string): Promise<LoadedConfig> => {
  const bytes = await readConfigBytes(file);
  const text = decodeUtf8(file, bytes);
  return await parseConfigText(file, text);
};

/**
 * Parses sites.yaml text; the file name only labels messages. Plain files
 * are read without the yaml package; the others, and every file with a
 * mistake, are read by it.
 */
export const parseConfigText = async (file: string, text: string): Promise<LoadedConfig> => {
  const simple = parseSimpleYaml(text, false);
  if (simple !== undefined && simple.tokenBound <= maxTokens) {
    let places: PlaceIndex | undefined;
    let lineCounter: LinePositions | undefined;
    return {
      file,
      data: simple.data,
      problems: [],
      // Parsed again with places when a message needs them, with the same result.
      get places() {
        places ??= parseSimpleYaml(text, true)!.places;
        return places;
      },
      get lineCounter() {
        lineCounter ??= linePositions(simple.lineStarts);
        return lineCounter;
      },
    };
  }
  const { parseYamlText } = await import("./yaml-full.js");
  try {
    return parseYamlText(file, text);
  } catch (error) {
    // The ffvm executable loads yaml-full.js as a file of its own, with its
    // own copy of ConfigError, while callers test for this module's class.
    if (error instanceof Error && error.name === "ConfigError" && !(error instanceof ConfigError)) {
      throw new ConfigError((error as ConfigError).problems);
    }
    throw error;
  }
};

const readConfigBytes = async (file: string): Promise<Buffer> => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
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
        message: `the file is ${bytes.length} bytes, more than the limit of ${maxConfigBytes}`,
        fix: "check that --config names sites.yaml, which lists sites, settings and paths in a few kilobytes",
        severity: "error",
      },
    ]);
  }
  return bytes;
};

// Decodes UTF-8 strictly and names the place of the first invalid byte. A
// UTF-8 byte-order mark is accepted and dropped.
const decodeUtf8 = (file: string, bytes: Buffer): string => {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throwProblem({ file, line: 0, col: 0, key: "", message: "the file is UTF-16: it starts with a UTF-16 byte-order mark", fix: "save it as UTF-8", severity: "error" });
  }
  // The decoder checks in native code, and the byte walk below runs only to name the place of a bad byte.
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Found below.
  }
  const offset = findInvalidUtf8(bytes);
  if (offset === undefined) return new TextDecoder("utf-8", { ignoreBOM: false }).decode(bytes);
  const lines = bytes.subarray(0, offset).toString("utf8").split("\n");
  return throwProblem({
    file,
    line: lines.length,
    col: (lines.at(-1)?.length ?? 0) + 1,
    key: "",
    message: `invalid UTF-8 byte 0x${bytes[offset]!.toString(16).padStart(2, "0")} at byte offset ${offset}`,
    fix: "save the file as UTF-8",
    severity: "error",
  });
};

// Returns the offset of the first byte that starts an ill-formed UTF-8
// sequence (Unicode 15, table 3-7), or undefined when all are well formed.
const findInvalidUtf8 = (bytes: Buffer): number | undefined => {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index++;
      continue;
    }
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else {
      return index;
    }
    for (let next = 1; next < length; next++) {
      const byte = bytes[index + next];
      const min = next === 1 ? low : 0x80;
      const max = next === 1 ? high : 0xbf;
      if (byte === undefined || byte < min || byte > max) return index;
    }
    index += length;
  }
  return undefined;
};


/**
 * Finds the source position of a value, or of its key, in the file. A path
 * that goes into an alias, or past the end of what the file sets, yields the
 * place of the deepest part that exists.
 */
export const locate = (
  config: Pick<LoadedConfig, "places" | "lineCounter">,
  path: Path,
  at: "value" | "key" = "value",
): { line: number; col: number } => {
  for (let length = path.length; length >= 0; length--) {
    const place = config.places.get(placeId(path.slice(0, length)));
    if (place === undefined) continue;
    const offset = at === "key" || length < path.length ? (place.key ?? place.value) : (place.value ?? place.key);
    if (offset !== undefined) return config.lineCounter.linePos(offset);
  }
  return { line: 1, col: 1 };
};
