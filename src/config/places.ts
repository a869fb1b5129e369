// Source positions of the keys and values of sites.yaml, for messages that
// name a line and a column.

/** Offsets in the text of a key and of its value; either may be missing. */
export interface SourcePlace {
  key?: number;
  value?: number;
}

/** Places keyed by placeId(path). */
export type PlaceIndex = Map<string, SourcePlace>;

export const placeId = (path: readonly (string | number)[]): string => JSON.stringify(path.map(String));

/** Turns a text offset into a 1-based line and column. */
export interface LinePositions {
  linePos(offset: number): { line: number; col: number };
}

/** Returns the offset of the start of each line: 0, and each offset after a line feed. */
export const findLineStarts = (text: string): number[] => {
  const starts = [0];
  for (let offset = text.indexOf("\n"); offset !== -1; offset = text.indexOf("\n", offset + 1)) starts.push(offset + 1);
  return starts;
};

/**
 * Line positions from line starts, with the results of the yaml package's
 * LineCounter, so a message names the same place whichever parser read the file.
 */
export const linePositions = (lineStarts: readonly number[]): LinePositions => ({
  linePos: (offset) => {
    let low = 0;
    let high = lineStarts.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (lineStarts[middle]! < offset) low = middle + 1;
      else high = middle;
    }
    if (lineStarts[low] === offset) return { line: low + 1, col: 1 };
    if (low === 0) return { line: 0, col: offset };
    return { line: low, col: offset - lineStarts[low - 1]! + 1 };
  },
});
