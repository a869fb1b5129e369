// Reads sites.yaml with the yaml package, with every check and message.

import { Composer, LineCounter } from "yaml";
import { ConfigError, throwProblem, type ConfigProblem } from "./errors.js";
import type { LoadedConfig } from "./load.js";
import { convertDocument } from "./yaml-data.js";
import { maxNestingDepth, maxTokens } from "./yaml-limits.js";
import { describeSyntaxErrors, inspectTokens, parseTokens, scanTokens } from "./yaml-syntax.js";

/**
 * Parses sites.yaml text with the yaml package; the file name only labels messages. Time and memory
 * are bounded. The text is at most maxConfigBytes, and the token count and
 * the nesting are checked before the parser and the recursive composer run.
 * Duplicate keys are found with one hash map per mapping, and aliases are
 * never expanded.
 */
export const parseYamlText = (file: string, text: string): LoadedConfig => {
  const lineCounter = new LineCounter();
  const scan = scanTokens(text);
  if (scan.tooManyTokens) {
    throwProblem({
      file,
      line: 0,
      col: 0,
      key: "",
      message: `the file contains more than ${maxTokens} YAML tokens (names, values, punctuation and line breaks)`,
      fix: "check that --config names sites.yaml, which has about 30 tokens per site, and put settings that sites share under defaults:",
      severity: "error",
    });
  }
  if (scan.deepBracket !== undefined) {
    throwProblem({
      file,
      ...positionOf(text, scan.deepBracket),
      key: "",
      message: `brackets nest more than ${maxNestingDepth} levels deep here`,
      fix: "check the [ ] and { } brackets, because sites.yaml nests only four levels deep (the top, sites, a site and its add-ons)",
      severity: "error",
    });
  }

  const tokens = parseTokens(text, lineCounter);
  const facts = inspectTokens(file, tokens, lineCounter);
  if (facts.tooDeep) throw new ConfigError(facts.problems);

  // uniqueKeys is off because the yaml package compares each key with every
  // earlier key of its mapping; convertDocument finds duplicates with a Map.
  const composer = new Composer({ uniqueKeys: false, strict: true, prettyErrors: false });
  const doc = [...composer.compose(tokens, true, text.length)][0]!;
  const syntaxProblems = describeSyntaxErrors(file, text, doc.errors, lineCounter, facts);
  if (syntaxProblems.length > 0) throw new ConfigError(syntaxProblems);

  if (doc.contents === null) {
    throwProblem({
      file,
      line: 0,
      col: 0,
      key: "",
      message: text.trim() === "" ? "the file is empty" : "the file contains only comments",
      fix: "list the sites to run, for example sites: { bank: { url: https://bank.example } }; an empty file is an error because it would stop every VM",
      severity: "error",
    });
  }

  const converted = convertDocument(file, doc, lineCounter, facts.tags);
  if (converted.aliasLimitPassed) throw new ConfigError(converted.problems);
  return { file, lineCounter, data: converted.data, places: converted.places, problems: converted.problems };
};

const positionOf = (text: string, offset: number): { line: number; col: number } => {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
};
