import { Code, LongshoreError } from '@longshore/domain';

/**
 * Loads a workspace package the CLI's bundle leaves outside (the servers for `up`, the console,
 * the local AWS endpoint: they read files beside themselves). A CLI installed from a packed
 * tarball does not carry them, as they are not published: that is said in one line, and the
 * command's exit code is 1, instead of a stack trace.
 */
export async function fromCheckout<T>(pkg: string, command: string, what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${pkg}'`)) {
      throw new LongshoreError(
        Code.FailedPrecondition,
        `longshore ${command} runs ${what}, which the installed CLI does not include (${pkg} is not published): run it from a Longshore checkout, after npm run build (npx longshore ${command})`,
        { cause: err },
      );
    }
    throw err;
  }
}
