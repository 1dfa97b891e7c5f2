/** The names an `OTEL_*_EXPORTER` variable lists (comma-separated, spaces around them ignored); none when unset or empty. */
export function exporterNames(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}
