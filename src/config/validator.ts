// The compiled validator of schemas/sites.schema.json, and the schema for
// the messages built from its descriptions. scripts/bundle.mjs replaces this
// module in the ffvm executable with a static import of the precompiled
// validator.

import { readFileSync } from "node:fs";
import type { ValidateFunction } from "ajv/dist/2020.js";

export type Schema = Record<string, unknown>;

const schemaUrl = new URL("../../schemas/sites.schema.json", import.meta.url);

// Built by scripts/build-validator.mjs next to this module in dist/; absent
// when the TypeScript sources run directly, as under vitest.
const generatedValidatorUrl = new URL("./sites-validator.js", import.meta.url);

let compiled: { schema: Schema; validate: ValidateFunction } | undefined;

/** Loads the precompiled validator, or compiles the schema with ajv (about 100 ms) when there is none. */
export const getValidator = async (): Promise<{ schema: Schema; validate: ValidateFunction }> => {
  if (compiled !== undefined) return compiled;
  let schema: Schema;
  let validate: ValidateFunction;
  try {
    const generated = (await import(generatedValidatorUrl.href)) as { default: ValidateFunction; schema: Schema };
    validate = generated.default;
    schema = generated.schema;
  } catch {
    schema = JSON.parse(readFileSync(schemaUrl, "utf8")) as Schema;
    const { Ajv2020 } = await import("ajv/dist/2020.js");
    // The options must match those of scripts/build-validator.mjs.
    validate = new Ajv2020({ allErrors: true, verbose: true, strict: false }).compile(schema);
  }
  compiled = { schema, validate };
  return compiled;
};
