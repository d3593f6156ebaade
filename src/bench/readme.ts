import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const README_START = '<!-- bench:start -->';
export const README_END = '<!-- bench:end -->';

/**
 * Replaces what lies between the bench markers of `text` with `table`; undefined when the markers are missing or
 * out of order, so a README without them is left alone.
 */
export function replaceBenchSection(text: string, table: string): string | undefined {
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return undefined;
  return `${text.slice(0, start + README_START.length)}\n${table.trim()}\n${text.slice(end)}`;
}

/** Writes the table into `file` between the markers; false when the file or its markers are missing. */
export function updateReadme(file: string, table: string): boolean {
  if (!existsSync(file)) return false;
  const next = replaceBenchSection(readFileSync(file, 'utf8'), table);
  if (next === undefined) return false;
  writeFileSync(file, next);
  return true;
}
