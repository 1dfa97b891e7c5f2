// The `longshore` binary: wires the command line to this process. All logic is in @longshore/commands.
import { runCli } from '@longshore/commands';
import { flushTelemetry, startTelemetry } from '@longshore/telemetry';

// With OTEL_* set, `longshore submit` starts the job's trace (its SubmitJob span is exported).
await startTelemetry('cli');
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
});
await flushTelemetry();
