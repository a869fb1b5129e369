// The one-pass reader against the yaml package: on every text it accepts, it
// must give the data, places and line positions of the full reader, and
// never fewer tokens than the yaml lexer counts. It must accept the plain
// files people write, and hand everything else to the yaml package.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Lexer } from "yaml";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/errors.js";
import { linePositions } from "../../src/config/places.js";
import { parseYamlText } from "../../src/config/yaml-full.js";
import { parseSimpleYaml } from "../../src/config/yaml-simple.js";
import { corpusSourceDir, generatedCases } from "../fixtures/bad-config/corpus.js";

const repoRoot = new URL("../../", import.meta.url).pathname;

type Outcome = "simple" | "full";

// Reads text both ways and fails the test where they differ. Returns which reader took it.
const compareReaders = (text: string): Outcome => {
  const simple = parseSimpleYaml(text);
  const withoutPlaces = parseSimpleYaml(text, false);
  expect(withoutPlaces?.data, text).toStrictEqual(simple?.data);
  expect(withoutPlaces?.tokenBound, text).toBe(simple?.tokenBound);
  if (simple === undefined) return "full";
  expect(withoutPlaces!.places.size).toBe(0);
  let full;
  try {
    full = parseYamlText("sites.yaml", text);
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(`the simple reader accepted a text the yaml package rejects:\n${text}\n${error.message}`);
    throw error;
  }
  expect(full.problems, text).toEqual([]);
  expect(simple.data, text).toStrictEqual(full.data);
  expect(sortedPlaces(simple.places), text).toStrictEqual(sortedPlaces(full.places));
  const positions = linePositions(simple.lineStarts);
  for (let offset = 0; offset <= text.length; offset += Math.max(1, Math.floor(text.length / 400))) {
    expect(positions.linePos(offset), `offset ${offset} of\n${text}`).toEqual(full.lineCounter.linePos(offset));
  }
  const tokens = [...new Lexer().lex(text)].length;
  expect(simple.tokenBound, text).toBeGreaterThanOrEqual(tokens);
  expect(simple.tokenBound, text).toBeLessThanOrEqual(tokens + 8);
  return "simple";
};

const sortedPlaces = (places: Map<string, unknown>) => [...places].sort(([a], [b]) => a.localeCompare(b));

const plainFiles: Record<string, string> = {
  "example": readFileSync(join(repoRoot, "sites.example.yaml"), "utf8"),
  "one site": "sites:\n  bank:\n    url: https://bank.example/\n",
  "no final line feed": "sites:\n  bank:\n    url: https://bank.example/",
  "comments everywhere": "# top\n\nsites: # the sites\n  # before a site\n  bank:   # a site\n    # before a key\n    url: https://bank.example/#top # with a fragment\n      # deeper comment\n    pinned: true\n\n# end\n",
  "indented root": "\n\n  sites:\n    a:\n      url: https://a.example/\n",
  "block list": "sites:\n  a:\n    url: https://a.example/\n    addons:\n      - ublock-origin\n      - \"./local.xpi\"\n      - 'dark-reader'\n",
  "list at its key's indentation": "defaults:\n  addons:\n  - one\n  - two\n  memory: 1024\nsites:\n  a:\n    url: https://a.example/\n",
  "flow lists": "sites:\n  a:\n    url: https://a.example/\n    match: [a.example, \"*.a.example\", 'b.example:8080']\n    hosts: []\n    addons: [ one ,two ]  # spaced\n",
  "kinds of values": "a: 1\nb: 0755\nc: true\nd: False\ne: NULL\nf: ~\ng: null\nh:\ni: 64M\nj: 1.5G\nk: \"\"\nl: ''\nm: a,b [c] {d}\nn: a#b\no: http://x/?q=a:b\np: 123456789012345\nq: yes\nr: 'a \"quoted\" b'\ns: \"it's\"\n",
  "a key named __proto__": "sites:\n  __proto__:\n    url: https://x.example/\n",
  "keys with dots and dashes": "sites:\n  my-site.example_2:\n    url: https://x.example/\n  1password:\n    url: https://1password.example/\n",
  "non-ASCII values": "sites:\n  books:\n    url: https://bücher.example/ü\n    title: \"日本語\"\n",
  "trailing spaces": "sites:   \n  a:  \n    url: https://a.example/   \n    pinned: true \n",
  "empty values": "defaults:\nsites:\n  a:\n    url:\n  b:\n",
};

const otherFiles: Record<string, string> = {
  "empty": "",
  "only comments": "# nothing\n",
  "a list at the top": "- a\n- b\n",
  "a scalar at the top": "hello\n",
  "tab": "sites:\n\ta: 1\n",
  "carriage returns": "sites:\r\n  a:\r\n",
  "anchor and alias": "defaults: &d\n  memory: 1\nsites:\n  a: *d\n",
  "tag": "a: !!str 1\n",
  "escape": "a: \"x\\ty\"\n",
  "doubled single quote": "a: 'it''s'\n",
  "block scalar": "a: |\n  text\n",
  "folded value": "a: one\n  two\n",
  "flow mapping": "a: {b: 1}\n",
  "nested flow list": "a: [[1]]\n",
  "comma inside a quoted list item": "a: [\"b,c\", d]\n",
  "bracket inside a quoted list item": "a: [\"b]\"]\n",
  "flow list over lines": "a: [1,\n  2]\n",
  "trailing comma": "a: [1, ]\n",
  "unclosed quote": "a: \"x\n",
  "unclosed bracket": "a: [x\n",
  "duplicate key": "a: 1\na: 2\n",
  "key true": "true: 1\n",
  "key 0x10": "0x10: 1\n",
  "key null": "null: 1\n",
  "quoted key": "\"a\": 1\n",
  "float": "a: 1.5\n",
  "hex": "a: 0x1F\n",
  "negative": "a: -1\n",
  "infinity": "a: .inf\n",
  "long number": "a: 1234567890123456\n",
  "colon in a value": "a: b: c\n",
  "value ending in a colon": "a: b:\n",
  "two documents": "a: 1\n---\nb: 2\n",
  "directive": "%YAML 1.2\n---\na: 1\n",
  "list item mapping": "a:\n  - b: 1\n",
  "list in a list": "a:\n  - - 1\n",
  "empty list item": "a:\n  -\n",
  "item in a mapping": "a: 1\n- b\n",
  "key in a list": "a:\n  - x\n  b: 1\n",
  "less indented than the top": "  a: 1\nb: 2\n",
  "odd indentation": "a:\n    b: 1\n  c: 2\n",
  "merge key": "a:\n  <<: {}\n",
  "question mark key": "? a\n: 1\n",
  "space before colon": "a : 1\n",
  "no space after colon": "a:1\n",
  "control character": "a: b\u0007\n",
  "byte-order mark inside": "a: b\ufeff\n",
  "too deep": "a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g:\n       h:\n        i: 1\n",
};

describe("parseSimpleYaml", () => {
  it.each(Object.entries(plainFiles))("reads %s as the yaml package does", (_name, text) => {
    expect(compareReaders(text)).toBe("simple");
  });

  it.each(Object.entries(otherFiles))("leaves %s to the yaml package", (_name, text) => {
    expect(parseSimpleYaml(text)).toBeUndefined();
  });

  it("reads 1000 sites within token limit", () => {
    const sites = Array.from({ length: 1000 }, (_, index) => `  site-${index}:\n    url: https://site-${index}.example/\n    memory: 1024\n`).join("");
    const text = `defaults:\n  disk: 64M\nsites:\n${sites}`;
    expect(compareReaders(text)).toBe("simple");
    expect(parseSimpleYaml(text)!.tokenBound).toBeLessThan(50_000);
  });

  it("agrees with yaml on bad-config corpus", () => {
    const outcomes: Outcome[] = [];
    for (const name of readdirSync(corpusSourceDir).filter((file) => file.endsWith(".yaml"))) {
      outcomes.push(compareReaders(readFileSync(join(corpusSourceDir, name), "utf8")));
    }
    for (const make of Object.values(generatedCases)) {
      const text = make();
      if (text.length <= 200_000) outcomes.push(compareReaders(text));
    }
    // Files whose only mistakes are in values are plain YAML.
    expect(outcomes).toContain("simple");
    expect(outcomes).toContain("full");
  });

  it("agrees with yaml on edited files", () => {
    // Edits a plain file at random places with characters that matter to YAML.
    let seed = 12345;
    const random = (limit: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % limit;
    };
    const pieces = [" ", "  ", ":", ": ", "-", "- ", "#", " #", '"', "'", "[", "]", ",", "\n", "\n  ", "a", "1", "0x1", "&", "*", "!", "{", "|", ">", ".", "~", "true", "null", "\t", "\\", "%", "?", "é"];
    const bases = Object.values(plainFiles);
    let simple = 0;
    for (let run = 0; run < 3000; run++) {
      let text = bases[random(bases.length)]!;
      for (let edit = 1 + random(3); edit > 0; edit--) {
        const at = random(text.length + 1);
        const remove = random(3);
        text = text.slice(0, at) + pieces[random(pieces.length)]! + text.slice(at + remove);
      }
      if (compareReaders(text) === "simple") simple++;
    }
    // Many edits keep the file plain, so the comparison is not empty.
    expect(simple).toBeGreaterThan(300);
  });
});
