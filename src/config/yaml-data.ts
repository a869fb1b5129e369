// Turns a composed YAML document into plain data, in one pass that also
// records the position of each key and value. The same pass rejects the YAML
// features that sites.yaml does not use: tags, merge keys, duplicate and
// non-text keys, control characters, and aliases that expand without bound.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";
import { formatKeyPath, showValue, type ConfigProblem } from "./errors.js";
import { placeId, type PlaceIndex } from "./places.js";

/**
 * Maximum number of values that aliases may add to the file, counted as if
 * each alias were written out. Repeating a URL or an add-on list adds a few
 * values per use. An alias bomb ("billion laughs") adds billions, and the
 * checks after loading would walk every one of them.
 */
export const maxAliasedValues = 10_000;

export interface ConvertedDocument {
  data: unknown;
  places: PlaceIndex;
  problems: ConfigProblem[];
  /** Whether aliases expand past maxAliasedValues, in which case the data must not be walked. */
  aliasLimitPassed: boolean;
}

// Tags of the YAML core schema. They only restate what a plain value is, so
// they are harmless. Any other tag requests a type sites.yaml does not have.
const coreTags = new Set(["str", "int", "float", "bool", "null", "map", "seq"].map((name) => `tag:yaml.org,2002:${name}`));

// C0 and C1 control characters and DEL. No URL, path, name or slug in
// sites.yaml contains one, and a tab or line break in a URL is a typo.
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

interface Converted {
  value: unknown;
  /** Number of values the node stands for, with every alias written out. */
  size: number;
}

/**
 * Converts the document into plain data. tags lists the explicit tags of the
 * text in order, as inspectTokens found them, so a problem can point at one.
 */
export const convertDocument = (
  file: string,
  doc: Document.Parsed,
  lineCounter: LineCounter,
  tags: readonly { offset: number; source: string }[],
): ConvertedDocument => {
  const places: PlaceIndex = new Map();
  const problems: ConfigProblem[] = [];
  const anchors = new Map<string, Node>();
  const converted = new Map<Node, Converted>();
  const inProgress = new Set<Node>();
  let aliasedValues = 0;
  let limitAlias: { offset: number; path: (string | number)[]; source: string } | undefined;

  const report = (offset: number, path: (string | number)[], message: string, fix: string): void => {
    problems.push({ file, ...lineCounter.linePos(offset), key: formatKeyPath(path), message, fix, severity: "error" });
  };

  const checkTag = (node: Node, path: (string | number)[]): void => {
    if (node.tag === undefined || coreTags.has(node.tag)) return;
    const start = node.range?.[0] ?? 0;
    const tag = lastTagBefore(tags, start);
    const tagText = tag?.source ?? node.tag.replace(/^tag:yaml\.org,2002:/, "!!");
    report(
      tag?.offset ?? start,
      path,
      `unsupported YAML tag ${JSON.stringify(tagText)}`,
      "remove the tag, because sites.yaml contains only plain text, numbers, true or false, lists and mappings",
    );
  };

  const convert = (node: unknown, path: (string | number)[]): Converted => {
    if (node === null || node === undefined) return { value: null, size: 1 };
    if (isAlias(node)) return convertAlias(node.source, node.range?.[0] ?? 0, path);
    const yamlNode = node as Node;
    checkTag(yamlNode, path);
    if (yamlNode.anchor !== undefined) anchors.set(yamlNode.anchor, yamlNode);
    inProgress.add(yamlNode);
    let result: Converted;
    if (isScalar(node)) {
      if (typeof node.value === "string") checkControlCharacters(node.value, node.range?.[0] ?? 0, path);
      result = { value: node.value, size: 1 };
    } else if (isMap(node)) {
      result = convertMap(node.items, node.range?.[0] ?? 0, path);
    } else if (isSeq(node)) {
      let size = 1;
      const list = node.items.map((item, index) => {
        const itemPath = [...path, index];
        places.set(placeId(itemPath), { value: rangeStart(item) });
        const child = convert(item, itemPath);
        size += child.size;
        return child.value;
      });
      result = { value: list, size };
    } else {
      result = { value: null, size: 1 };
    }
    inProgress.delete(yamlNode);
    converted.set(yamlNode, result);
    return result;
  };

  const convertAlias = (source: string, offset: number, path: (string | number)[]): Converted => {
    const target = anchors.get(source);
    if (target === undefined) {
      report(offset, path, `alias *${source} refers to no anchor`, `define &${source} on a value above this line, or write the value out`);
      return { value: null, size: 1 };
    }
    const done = converted.get(target);
    if (done === undefined || inProgress.has(target)) {
      report(offset, path, `alias *${source} is inside the value it refers to`, "write the value out, because a value cannot contain itself");
      return { value: null, size: 1 };
    }
    aliasedValues += done.size;
    if (aliasedValues > maxAliasedValues && limitAlias === undefined) limitAlias = { offset, path, source };
    return done;
  };

  const convertMap = (items: readonly { key: unknown; value: unknown }[], mapOffset: number, path: (string | number)[]): Converted => {
    const object: Record<string, unknown> = {};
    const firstKeys = new Map<string, number>();
    let size = 1;
    for (const { key: keyNode, value: valueNode } of items) {
      if (!isScalar(keyNode)) {
        const offset = isAlias(keyNode) || (keyNode !== null && typeof keyNode === "object") ? rangeStart(keyNode) ?? mapOffset : mapOffset;
        report(offset, path, "a key must be plain text, not a list, a mapping or an alias", "write the key as text followed by a colon");
        continue;
      }
      const keyOffset = keyNode.range?.[0] ?? mapOffset;
      checkTag(keyNode, path);
      if (keyNode.value === null || keyNode.value === "") {
        const source = keyNode.source ?? "";
        if (source === "") report(keyOffset, path, "empty key", "write a name before the colon");
        else report(keyOffset, path, `key ${JSON.stringify(source)} is read as null, not as text`, `quote it, as "${source}":, or choose another name`);
        continue;
      }
      // Merge keys are a YAML 1.1 type that YAML 1.2 dropped. The yaml package
      // reads a plain << as a text key, or after a %YAML 1.1 directive as a
      // merge key whose value is a symbol. defaults: is how sites share
      // settings, so a merge key is rejected in both cases, not merged.
      const isMergeKey = typeof keyNode.value === "symbol" || (keyNode.value === "<<" && keyNode.type === "PLAIN");
      // A key the core schema reads as a number or a boolean would become
      // other text than was written (0x10 becomes 16), so it is an error
      // unless it reads back the same, as 123 does.
      const source = keyNode.source ?? "";
      const isRenamed = (typeof keyNode.value === "number" || typeof keyNode.value === "boolean") && String(keyNode.value) !== source;
      if (isRenamed) {
        const kind = typeof keyNode.value === "number" ? "number" : "boolean";
        report(keyOffset, path, `key ${JSON.stringify(source)} is read as the ${kind} ${String(keyNode.value)}, not as text`, `quote it, as "${source}":, or choose another name`);
        continue;
      }
      const key = isMergeKey ? "<<" : String(keyNode.value);
      const keyPath = [...path, key];
      if (isMergeKey) {
        report(keyOffset, keyPath, "YAML merge keys (<<) are not supported", "put settings shared by all sites under defaults:, or write them out in each site");
        continue;
      }
      const first = firstKeys.get(key);
      if (first !== undefined) {
        report(
          keyOffset,
          keyPath,
          `duplicate key ${showValue(key)}, first on line ${lineCounter.linePos(first).line}`,
          "remove or rename one of them, because each key, and so each site name, may appear once",
        );
        continue;
      }
      firstKeys.set(key, keyOffset);
      places.set(placeId(keyPath), { key: keyOffset, value: valueStart(valueNode) });
      const child = convert(valueNode, keyPath);
      // defineProperty, so that a key named __proto__ becomes a property and not the prototype.
      Object.defineProperty(object, key, { value: child.value, enumerable: true, writable: true, configurable: true });
      size += 1 + child.size;
    }
    return { value: object, size };
  };

  const checkControlCharacters = (value: string, offset: number, path: (string | number)[]): void => {
    const match = controlCharacter.exec(value);
    if (match === null) return;
    if (match.index === value.length - 1 && value.endsWith("\n")) {
      report(
        offset,
        path,
        `${showValue(value)} ends with a line break`,
        "write the value on the line of its key, or start the block with |- instead of | or > to drop the final line break",
      );
      return;
    }
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    report(
      offset,
      path,
      `${showValue(value)} contains the control character U+${code} at index ${match.index}`,
      "remove it, because no value in sites.yaml may contain tabs, line breaks or other control characters",
    );
  };

  places.set(placeId([]), { value: rangeStart(doc.contents) });
  const root = convert(doc.contents, []);
  if (limitAlias !== undefined) {
    report(
      limitAlias.offset,
      limitAlias.path,
      `YAML aliases would add ${aliasedValues} values to the file, more than the limit of ${maxAliasedValues}; this alias *${limitAlias.source} passes the limit`,
      "write the values out or use fewer aliases, because aliases that repeat other aliases multiply",
    );
  }
  return { data: root.value, places, problems, aliasLimitPassed: limitAlias !== undefined };
};

const rangeStart = (node: unknown): number | undefined => (node as { range?: [number, number, number] } | null | undefined)?.range?.[0];

// A key with nothing after its colon has an empty null value; point at the key instead.
const valueStart = (node: unknown): number | undefined => {
  if (isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1]) return undefined;
  return rangeStart(node);
};

const lastTagBefore = (tags: readonly { offset: number; source: string }[], offset: number): { offset: number; source: string } | undefined => {
  let low = 0;
  let high = tags.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (tags[middle]!.offset <= offset) low = middle + 1;
    else high = middle;
  }
  return tags[low - 1];
};
