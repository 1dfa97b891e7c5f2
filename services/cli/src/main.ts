// The `longshore` binary: wires the command line to this process. All logic is in @longshore/commands.
import { runCli } from '@longshore/commands';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
});
