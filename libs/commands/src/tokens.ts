import type { Command } from 'commander';
import { TokenRole, TokenSchema, type Token } from '@longshore/client';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { examples } from './examples.js';
import { age, enumWord } from './format.js';
import { nameArg } from './option-parsers.js';
import { writeMessagesJson } from './output.js';
import { renderTable } from './table.js';

const ROLES: Record<string, TokenRole> = { admin: TokenRole.ADMIN, submitter: TokenRole.SUBMITTER, reader: TokenRole.READER, agent: TokenRole.AGENT };

function roleArg(text: string): TokenRole {
  const role = ROLES[text];
  if (role === undefined) throw new UsageError(`--role must be one of ${Object.keys(ROLES).join(', ')}, got "${text}"`);
  return role;
}

/** The `longshore tokens ls` table. */
export function renderTokenTable(tokens: readonly Token[], now: number): string {
  const rows = tokens.map((t) => [t.id, t.name, enumWord(TokenRole, t.role), t.pools.join(',') || '(all)', t.createdAt ? `${age(t.createdAt, now)} ago` : '-', t.createdBy || '-']);
  return renderTable(['ID', 'NAME', 'ROLE', 'POOLS', 'CREATED', 'BY'], rows);
}

/** Registers `longshore tokens create|ls|revoke|whoami`. */
export function registerTokens(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('manage API tokens (admin): who may submit, read, run agents or administer');
  tokens
    .command('create')
    .description('create a token and print its secret once (stdout); it is stored only as a hash')
    .requiredOption('--role <role>', 'admin | submitter | reader | agent', roleArg)
    .requiredOption('--name <name>', 'who or what it is for, e.g. "ci-eu" (shown in listings and errors)')
    .option('--pool <pool>', 'limit it to this pool (repeatable; required once for an agent token)', (v: string, acc: string[] = []) => [...acc, nameArg(v)])
    .option('--json', 'print the token and its secret as JSON')
    .addHelpText(
      'after',
      examples(
        'export LONGSHORE_TOKEN=$(longshore tokens create --role submitter --name ci --pool ingest-eu)',
        'longshore tokens create --role agent --name eu-agents --pool ingest-eu',
        'longshore tokens create --role reader --name dashboards',
      ),
    )
    .action(async (flags: { role: TokenRole; name: string; pool?: string[] }, cmd: Command) => {
      const res = await ctx.client().tokens.createToken({ role: flags.role, name: flags.name, pools: flags.pool ?? [] });
      if (ctx.json(cmd)) {
        ctx.io.stdout.write(`${JSON.stringify({ id: res.token?.id, name: res.token?.name, role: flags.role === undefined ? '' : enumWord(TokenRole, flags.role), pools: res.token?.pools ?? [], secret: res.secret })}\n`);
        return;
      }
      ctx.io.stdout.write(`${res.secret}\n`);
      ctx.io.stderr.write(`created token ${res.token?.id} ("${res.token?.name}"); the secret above is shown only this once: keep it now (revoke with: longshore tokens revoke ${res.token?.id})\n`);
    });
  tokens
    .command('ls')
    .description('list tokens (never their secrets)')
    .option('--json', 'print the tokens as a JSON array')
    .action(async (_flags: object, cmd: Command) => {
      const { tokens: list } = await ctx.client().tokens.listTokens({});
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, TokenSchema, list);
      else ctx.io.stdout.write(renderTokenTable(list, ctx.now()));
    });
  tokens
    .command('revoke')
    .description('revoke a token: every server refuses it within seconds')
    .argument('<id>', 'token id (see longshore tokens ls)')
    .addHelpText('after', examples('longshore tokens revoke 3k9f0c2m8q1z7x4a'))
    .action(async (id: string) => {
      const { token } = await ctx.client().tokens.revokeToken({ id });
      ctx.io.stdout.write(`revoked token ${id} ("${token?.name ?? ''}")\n`);
    });
  tokens
    .command('whoami')
    .description('show the token this CLI uses: its id, name, role and pools')
    .option('--json', 'print it as JSON')
    .action(async (_flags: object, cmd: Command) => {
      const { token } = await ctx.client().tokens.whoAmI({});
      if (!token) return;
      if (ctx.json(cmd)) writeMessagesJson(ctx.io.stdout, TokenSchema, [token]);
      else ctx.io.stdout.write(renderTokenTable([token], ctx.now()));
    });
}
