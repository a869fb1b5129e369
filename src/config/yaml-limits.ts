// Bounds on the YAML of sites.yaml that keep parsing time and memory small.

/**
 * Deepest nesting of lists and mappings accepted. sites.yaml nests four
 * levels (top, sites, site, addons). The yaml package composes one nested
 * level per recursive call, so a file nested thousands of levels deep would
 * overflow the stack instead of failing with a message.
 */
export const maxNestingDepth = 32;

/**
 * Maximum number of lexer tokens (keys, values, punctuation, spaces, line
 * breaks) in a file. A sites.yaml of 1000 sites with three settings each
 * contains about 30 000. The yaml parser and composer take time and memory
 * per token, and a file within maxConfigBytes can contain 260 000.
 */
export const maxTokens = 50_000;
