import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$LONGSHORE_HOME`, default `~/.longshore`: where `longshore up` keeps its data and credentials. */
export function longshoreHome(source: NodeJS.ProcessEnv = process.env): string {
  return source['LONGSHORE_HOME'] || join(homedir(), '.longshore');
}

/** The file `longshore up` writes its admin token to (mode 0600) and the CLI reads it from. */
export function credentialsPath(source: NodeJS.ProcessEnv = process.env): string {
  return join(longshoreHome(source), 'credentials');
}
