// Checks sites.yaml data against schemas/sites.schema.json and turns ajv's
// errors into messages with file:line:col, the key, the value and the fix.

import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { showValue, type ConfigProblem } from "./errors.js";
import { locate, type LoadedConfig } from "./load.js";

type Schema = Record<string, unknown>;

const schemaUrl = new URL("../../schemas/sites.schema.json", import.meta.url);

let compiled: { schema: Schema; validate: ValidateFunction } | undefined;

const getValidator = (): { schema: Schema; validate: ValidateFunction } => {
  if (compiled !== undefined) return compiled;
  const schema = JSON.parse(readFileSync(schemaUrl, "utf8")) as Schema;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
  compiled = { schema, validate: ajv.compile(schema) };
  return compiled;
};

/** Validates loaded sites.yaml data; returns every problem found, empty when valid. */
export const validateConfig = (config: LoadedConfig): ConfigProblem[] => {
  const { schema, validate } = getValidator();
  if (validate(config.data)) return [];
  const errors = collapseImageErrors(validate.errors ?? []);
  const problems = errors.map((error) => describeError(config, schema, error));
  return dedupe(problems);
};

// The image key is a oneOf of two shapes; ajv reports why each branch failed,
// which reads badly, so any image error becomes one message.
const collapseImageErrors = (errors: ErrorObject[]): ErrorObject[] => {
  const imageErrors = errors.filter((error) => error.instancePath.startsWith("/image"));
  if (imageErrors.length === 0) return errors;
  const rest = errors.filter((error) => !error.instancePath.startsWith("/image"));
  const oneOf = imageErrors.find((error) => error.keyword === "oneOf") ?? imageErrors[0]!;
  return [...rest, { ...oneOf, keyword: "imageShape" }];
};

const describeError = (config: LoadedConfig, schema: Schema, error: ErrorObject): ConfigProblem => {
  const path = pointerToPath(error.instancePath);
  const base = { file: config.file, severity: "error" as const };

  switch (error.keyword) {
    case "additionalProperties":
    case "unevaluatedProperties": {
      const extra = String(error.params.additionalProperty ?? error.params.unevaluatedProperty);
      const keyPath = [...path, extra];
      const allowed = allowedKeys(schema, error.parentSchema as Schema);
      return {
        ...base,
        ...locate(config, keyPath, "key"),
        key: keyPath.join("."),
        message: `unknown key ${showValue(extra)}`,
        fix: suggestKey(extra, allowed),
      };
    }
    case "required": {
      const missing = String(error.params.missingProperty);
      return {
        ...base,
        ...locate(config, path, "key"),
        key: path.join("."),
        message: `missing required key ${showValue(missing)}`,
        fix: describeExpected(propertySchema(schema, error.parentSchema as Schema, missing), `add ${missing}:`),
      };
    }
    case "propertyNames":
    case "pattern":
      if (error.params.propertyName !== undefined || error.propertyName !== undefined) {
        return describeBadName(config, path, String(error.propertyName ?? error.params.propertyName));
      }
      return describeBadValue(config, path, error, patternReasons[String(path.at(-1))] ?? "does not match the allowed form");
    case "imageShape":
      return {
        ...base,
        ...locate(config, ["image"]),
        key: "image",
        message: `invalid image ${showValue(valueAt(config.data, ["image"]))}`,
        fix: 'write either image: { flake: ./nix, attribute: vm } or image: { runner: ./result/bin/run-ffvm-vm }',
      };
    default:
      return describeBadValue(config, path, error, ajvMessage(error));
  }
};

const describeBadName = (config: LoadedConfig, path: string[], name: string): ConfigProblem => {
  const what = path[0] === "vpns" ? "VPN" : "site";
  return {
    file: config.file,
    ...locate(config, [...path, name], "key"),
    key: [...path, name].join("."),
    message: `invalid ${what} name ${showValue(name)}`,
    fix: "use 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit, because the name becomes a file name, a QEMU -name value and a hostname",
    severity: "error",
  };
};

const describeBadValue = (config: LoadedConfig, path: string[], error: ErrorObject, reason: string): ConfigProblem => {
  const value = valueAt(config.data, path);
  return {
    file: config.file,
    ...locate(config, path),
    key: path.join("."),
    message: `${showValue(value)} ${reason}`,
    fix: describeExpected(error.parentSchema as Schema | undefined),
    severity: "error",
  };
};

const patternReasons: Record<string, string> = {
  url: "is not an http or https URL",
  disk: "is not a size",
  color: "is not a colour of the form #rrggbb",
};

// Names the closest allowed key when the unknown one looks like a typo.
const suggestKey = (key: string, allowed: string[]): string => {
  const close = allowed.find((candidate) => editDistance(candidate, key.toLowerCase()) <= 2);
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
    case "type":
      return `is not of type ${String(params.type)}`;
    case "minimum":
      return `is below the minimum of ${String(params.limit)}`;
    case "maximum":
      return `is above the maximum of ${String(params.limit)}`;
    case "minLength":
      return "is empty";
    case "maxLength":
      return `is longer than ${String(params.limit)} characters`;
    case "uniqueItems":
      return `lists the same item twice (items ${String(params.j)} and ${String(params.i)})`;
    default:
      return error.message ?? "is invalid";
  }
};

// Builds the fix from the schema: its description and first example.
const describeExpected = (schema: Schema | undefined, fallback?: string): string | undefined => {
  if (schema === undefined) return fallback;
  const description = typeof schema.description === "string" ? schema.description : undefined;
  const examples = Array.isArray(schema.examples) ? schema.examples : [];
  const example = examples.length > 0 ? `, for example ${JSON.stringify(examples[0])}` : "";
  if (description === undefined) return fallback;
  return `expected: ${lowerFirst(description.replace(/\.$/, ""))}${example}`;
};

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);

const resolveRef = (root: Schema, schema: Schema): Schema => {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  const target = ref
    .slice(2)
    .split("/")
    .reduce<unknown>((node, key) => (node as Schema | undefined)?.[key], root) as Schema | undefined;
  return target === undefined ? schema : { ...target, ...schema, $ref: undefined };
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

const propertySchema = (root: Schema, schema: Schema, key: string): Schema | undefined => {
  const resolved = resolveRef(root, schema);
  const properties = resolved.properties as Record<string, Schema> | undefined;
  const direct = properties?.[key];
  if (direct !== undefined) return resolveRef(root, direct);
  for (const part of (resolved.allOf as Schema[] | undefined) ?? []) {
    const found = propertySchema(root, part, key);
    if (found !== undefined) return found;
  }
  return undefined;
};

const pointerToPath = (pointer: string): string[] =>
  pointer === "" ? [] : pointer.slice(1).split("/").map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));

const valueAt = (data: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], data);

const dedupe = (problems: ConfigProblem[]): ConfigProblem[] => {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const id = `${problem.line}:${problem.col}:${problem.key}:${problem.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};
