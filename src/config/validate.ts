// Checks sites.yaml data against schemas/sites.schema.json and turns ajv's
// errors into messages with file:line:col, the key, the value and the fix.

import type { ErrorObject } from "ajv/dist/2020.js";
import { formatKeyPath, showValue, type ConfigProblem } from "./errors.js";
import { locate, type LoadedConfig } from "./load.js";
import { describeNameProblem, suggestName } from "./names.js";
import { describeSizeProblem, parseSize } from "./size.js";
import { describeUrlProblem, suggestUrlFix } from "./url.js";
import { getValidator, type Schema } from "./validator.js";

/**
 * Maximum number of entries under sites: and under vpns:, as the schema's
 * maxProperties also states. Each site is a VM, so a longer list is not a
 * real sites.yaml. ajv's time grows with the square of the number of invalid
 * entries, because it copies the error list after each one (ajv 8.20).
 */
export const maxEntries = 1000;

/** Validates loaded sites.yaml data; returns every problem found, empty when valid. */
export const validateConfig = async (config: LoadedConfig): Promise<ConfigProblem[]> => {
  const tooMany = findTooManyEntries(config);
  if (tooMany !== undefined) return [tooMany];
  const { schema, validate } = await getValidator();
  if (validate(config.data)) return [];
  return selectErrors(validate.errors ?? []).map((error) => describeError(config, schema, error));
};

// Checked before ajv runs, so that a file of many invalid sites fails fast.
const findTooManyEntries = (config: LoadedConfig): ConfigProblem | undefined => {
  for (const key of ["sites", "vpns"]) {
    const entries = valueAt(config.data, [key]);
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) continue;
    const count = Object.keys(entries).length;
    if (count <= maxEntries) continue;
    return {
      file: config.file,
      ...locate(config, [key], "key"),
      key,
      message: `lists ${count} entries, more than the limit of ${maxEntries}`,
      fix: "check that --config names the right file, because each entry is a VM or a VPN",
      severity: "error",
    };
  }
  return undefined;
};

// Keeps one error per cause. ajv reports a bad name twice, under pattern and
// propertyNames. It reports a value of the wrong type also under its other
// keywords, so 1.5 is not an integer and also below the minimum. And it
// reports an image with both or neither of flake and runner under each
// branch of the oneOf.
const selectErrors = (errors: ErrorObject[]): ErrorObject[] => {
  const typeErrorPaths = new Set(errors.filter((error) => error.keyword === "type").map((error) => error.instancePath));
  const imageShapeError = errors.some((error) => error.instancePath === "/image" && error.keyword === "oneOf");
  const seen = new Set<string>();
  return errors.filter((error) => {
    if (typeErrorPaths.has(error.instancePath) && error.keyword !== "type") return false;
    if (imageShapeError && error.instancePath === "/image" && ["required", "dependentRequired"].includes(error.keyword)) return false;
    const params = error.params as Record<string, unknown>;
    const child = error.propertyName ?? params.propertyName ?? params.additionalProperty ?? params.unevaluatedProperty ?? params.missingProperty ?? "";
    const id = `${error.instancePath}\u0000${String(child)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};

const describeError = (config: LoadedConfig, schema: Schema, error: ErrorObject): ConfigProblem => {
  const path = pointerToPath(error.instancePath);
  const base = { file: config.file, severity: "error" as const };
  const params = error.params as Record<string, unknown>;

  if (error.propertyName !== undefined || (error.keyword === "propertyNames" && params.propertyName !== undefined)) {
    return describeBadName(config, path, String(error.propertyName ?? params.propertyName));
  }
  switch (error.keyword) {
    case "additionalProperties":
    case "unevaluatedProperties": {
      const extra = String(params.additionalProperty ?? params.unevaluatedProperty);
      const keyPath = [...path, extra];
      return {
        ...base,
        ...locate(config, keyPath, "key"),
        key: formatKeyPath(keyPath),
        message: `unknown key ${showValue(extra)}`,
        fix: suggestKey(extra, allowedKeys(schema, error.parentSchema as Schema)),
      };
    }
    case "required": {
      const missing = String(params.missingProperty);
      return {
        ...base,
        ...locate(config, path, "key"),
        key: formatKeyPath(path),
        message: `missing required key ${showValue(missing)}`,
        fix: describeExpected(schema, fieldSchema(schema, [...path, missing])) ?? `add ${missing}:`,
      };
    }
    case "oneOf":
      return describeImageShape(config, path);
    case "dependentRequired":
      return {
        ...base,
        ...locate(config, [...path, String(params.property)], "key"),
        key: formatKeyPath([...path, String(params.property)]),
        message: "applies only to an image built from flake:, and this image sets runner:",
        fix: `remove ${String(params.property)}:, or replace runner: with flake:`,
      };
    case "uniqueItems": {
      // ajv names the two items i and j, in either order depending on the item type.
      const [earlier, later] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      const itemPath = [...path, later!];
      return {
        ...base,
        ...locate(config, itemPath),
        key: formatKeyPath(itemPath),
        message: `${showValue(valueAt(config.data, itemPath))} is listed twice, also as item ${earlier}`,
        fix: "remove one of them",
      };
    }
    case "type":
      return describeWrongType(config, schema, path, String(params.type));
    case "pattern":
      return describePatternMismatch(config, schema, path);
    default:
      return describeBadValue(config, schema, path, ajvMessage(error));
  }
};

const describeBadName = (config: LoadedConfig, path: string[], name: string): ConfigProblem => {
  const what = path[0] === "vpns" ? "VPN" : "site";
  const suggestion = suggestName(name);
  const example = suggestion === undefined || suggestion === name ? "" : `, such as ${showValue(suggestion)}`;
  return {
    file: config.file,
    ...locate(config, [...path, name], "key"),
    key: formatKeyPath([...path, name]),
    message: `invalid ${what} name ${showValue(name)}: it ${describeNameProblem(name) ?? "does not match the allowed form"}`,
    fix: `use 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit${example}, because the name becomes a file name, a QEMU -name value and a hostname`,
    severity: "error",
  };
};

const describeImageShape = (config: LoadedConfig, path: string[]): ConfigProblem => {
  const image = valueAt(config.data, path) as Record<string, unknown>;
  const both = "flake" in image && "runner" in image;
  return {
    file: config.file,
    ...locate(config, path),
    key: formatKeyPath(path),
    message: both ? "sets both flake: and runner:" : `${showValue(image)} sets neither flake: nor runner:`,
    fix: both
      ? "keep one: flake: to build the image from a NixOS flake, or runner: to boot a prebuilt runner script"
      : "add flake: ./nix to build the image from a NixOS flake, or runner: ./result/bin/run-ffvm-vm to boot a prebuilt runner script",
    severity: "error",
  };
};

const describeWrongType = (config: LoadedConfig, schema: Schema, path: string[], expected: string): ConfigProblem => {
  const value = valueAt(config.data, path);
  if (path.length === 0) {
    return {
      file: config.file,
      line: 0,
      col: 0,
      key: "",
      message: `the top level is ${kindOf(value)}, not a mapping`,
      fix: "start the file with sites: and the sites under it, for example sites: { bank: { url: https://bank.example } }",
      severity: "error",
    };
  }
  const field = path.at(-1);
  if (field === "disk" && typeof value === "number") {
    const problem = describeSizeProblem(String(value));
    if (problem !== undefined) return describeBadValue(config, schema, path, problem.reason, problem.fix);
  }
  const reason =
    value === null
      ? `has no value, but must be ${typeNames[expected] ?? expected}`
      : expected === "integer" && typeof value === "number"
        ? "is not an integer"
        : `is ${kindOf(value)}, not ${typeNames[expected] ?? expected}`;
  return describeBadValue(config, schema, path, reason, typeFix(field, value));
};

// Fixes for wrong types that have a likely cause.
const typeFix = (field: string | undefined, value: unknown): string | undefined => {
  if (field === "color" && value === null) return 'quote the colour, because # starts a YAML comment: color: "#2e7d32"';
  if (field === "memory" && typeof value === "string") {
    const bytes = parseSize(value.replace(/i?B$/i, "").toUpperCase());
    if (bytes !== undefined) return `write the memory in MiB as a plain number, such as ${Math.round(bytes / 1024 ** 2)} for ${value}`;
  }
  return undefined;
};

const describePatternMismatch = (config: LoadedConfig, schema: Schema, path: string[]): ConfigProblem => {
  const value = valueAt(config.data, path);
  const field = path.at(-1);
  if (typeof value === "string" && field === "url") {
    return describeBadValue(config, schema, path, describeUrlProblem(value) ?? "is not an http or https URL", suggestUrlFix(value));
  }
  if (typeof value === "string" && field === "disk") {
    const problem = describeSizeProblem(value);
    return describeBadValue(config, schema, path, problem?.reason ?? "is not a size", problem?.fix);
  }
  if (typeof value === "string" && (field === "vpn" || path[0] === "vpns")) {
    return describeBadValue(config, schema, path, `is not a valid VPN name: it ${describeNameProblem(value) ?? "does not match the allowed form"}`);
  }
  return describeBadValue(config, schema, path, patternReasons[String(field)] ?? "does not match the allowed form");
};

const describeBadValue = (config: LoadedConfig, schema: Schema, path: string[], reason: string, fix?: string): ConfigProblem => {
  const value = valueAt(config.data, path);
  const shown = value === null ? "" : `${showValue(value)} `;
  return {
    file: config.file,
    ...locate(config, path),
    key: formatKeyPath(path),
    message: `${shown}${reason}`,
    fix: fix ?? describeExpected(schema, fieldSchema(schema, path)),
    severity: "error",
  };
};

const patternReasons: Record<string, string> = {
  color: "is not a colour of the form #rrggbb",
  attribute: "is not a flake attribute path",
};

const typeNames: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
};

const kindOf = (value: unknown): string => {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "boolean") return "a boolean";
  if (typeof value === "number") return "a number";
  if (typeof value === "string") return "a string";
  return `a ${typeof value}`;
};

// Names the closest allowed key when the unknown one looks like a typo.
const suggestKey = (key: string, allowed: string[]): string => {
  const close = allowed.find((candidate) => editDistance(candidate.toLowerCase(), key.toLowerCase()) <= 2);
  const list = `allowed keys here: ${allowed.join(", ")}`;
  return close === undefined ? list : `did you mean ${showValue(close)}? ${list}`;
};

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
};

const ajvMessage = (error: ErrorObject): string => {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "minimum":
      return `is below the minimum of ${String(params.limit)}`;
    case "maximum":
      return `is above the maximum of ${String(params.limit)}`;
    case "minLength":
      return "is empty";
    case "maxLength":
      return `is longer than ${String(params.limit)} characters`;
    default:
      return error.message ?? "is invalid";
  }
};

// Builds the fix from the schema of the value: its description and first example.
const describeExpected = (root: Schema, schema: Schema | undefined): string | undefined => {
  if (schema === undefined) return undefined;
  const target = resolveRef(root, schema);
  const description = schema.description ?? target.description;
  const examples = schema.examples ?? target.examples;
  if (typeof description !== "string") return undefined;
  const example = Array.isArray(examples) && examples.length > 0 ? `, for example ${JSON.stringify(examples[0])}` : "";
  return `expected: ${lowerFirst(description.replace(/\.$/, ""))}${example}`;
};

// Lower-cases the first letter of a sentence, but not of an acronym such as VPNs.
const lowerFirst = (text: string): string => {
  const second = text.charAt(1);
  return second !== second.toLowerCase() ? text : text.charAt(0).toLowerCase() + text.slice(1);
};

const resolveRef = (root: Schema, schema: Schema): Schema => {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  const target = ref
    .slice(2)
    .split("/")
    .reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], root) as Schema | undefined;
  return target === undefined ? schema : { ...target, ...schema, $ref: undefined };
};

// Returns the schema that describes the value at an instance path, following
// properties, additionalProperties, items, $ref and allOf. The schema written
// at the property wins over its $ref target, so its description is used.
const fieldSchema = (root: Schema, path: readonly (string | number)[]): Schema | undefined => {
  let schema: Schema | undefined = root;
  for (const segment of path) {
    if (schema === undefined) return undefined;
    schema = childSchema(root, schema, String(segment));
  }
  return schema;
};

const childSchema = (root: Schema, schema: Schema, segment: string): Schema | undefined => {
  const resolved = resolveRef(root, schema);
  const properties = resolved.properties as Record<string, Schema> | undefined;
  if (properties?.[segment] !== undefined) return properties[segment];
  for (const part of (resolved.allOf as Schema[] | undefined) ?? []) {
    const found = childSchema(root, part, segment);
    if (found !== undefined) return found;
  }
  if (typeof resolved.additionalProperties === "object") return resolved.additionalProperties as Schema;
  if (typeof resolved.items === "object" && /^\d+$/.test(segment)) return resolved.items as Schema;
  return undefined;
};

// Lists the keys a mapping accepts, following $ref and allOf.
const allowedKeys = (root: Schema, schema: Schema): string[] => {
  const keys = new Set<string>();
  const visit = (node: Schema): void => {
    const resolved = resolveRef(root, node);
    const properties = resolved.properties as Schema | undefined;
    for (const key of Object.keys(properties ?? {})) keys.add(key);
    for (const part of (resolved.allOf as Schema[] | undefined) ?? []) visit(part);
  };
  visit(schema);
  return [...keys].sort();
};

const pointerToPath = (pointer: string): string[] =>
  pointer === "" ? [] : pointer.slice(1).split("/").map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));

const valueAt = (data: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], data);
