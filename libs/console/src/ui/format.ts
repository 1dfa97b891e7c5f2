/** Counts as people read them: 100000 → "100,000"; with a noun, pluralised ("1 line", "2 lines"). */
export function formatCount(n: number, noun?: string): string {
  const text = Math.round(n).toLocaleString('en-US');
  return noun === undefined ? text : `${text} ${noun}${n === 1 ? '' : 's'}`;
}
