import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { TokenRecord, TokenStore } from '@longshore/auth';
import { InvalidArgumentError } from '@longshore/domain';
import type { TokenService } from '@longshore/proto';
import { tokenRoleEnum, type ServiceImpl } from '@longshore/rpc';
import type { Logger } from '@longshore/telemetry';

function tokenToProto(t: TokenRecord) {
  return { id: t.tokenId, name: t.name, role: tokenRoleEnum.toProto(t.role), pools: [...t.pools], createdAt: timestampFromMs(t.createdAt), createdBy: t.createdBy };
}

const TOKEN_ID = /^[a-z0-9]{1,32}$/;

/** TokenService: admins create, list and revoke tokens; any token may ask who it is. */
export function tokenService(tokens: TokenStore, logger: Logger): ServiceImpl<(typeof TokenService)['method']> {
  return {
    async createToken(req, ctx) {
      const role = tokenRoleEnum.fromProto(req.role);
      if (!role) throw new InvalidArgumentError('role', 'is required: admin, submitter, reader or agent');
      const { record, bearer } = await tokens.create({ name: req.name, role, pools: req.pools }, ctx.principal.tokenId);
      logger.info({ token: record.tokenId, name: record.name, role, pools: record.pools, by: ctx.principal.tokenId }, 'token created');
      return { token: tokenToProto(record), secret: bearer };
    },

    async listTokens() {
      return { tokens: (await tokens.list()).map(tokenToProto) };
    },

    async revokeToken(req, ctx) {
      if (!TOKEN_ID.test(req.id)) throw new InvalidArgumentError('id', 'is not a token id (see longshore tokens ls)');
      const rec = await tokens.revoke(req.id);
      logger.info({ token: rec.tokenId, name: rec.name, by: ctx.principal.tokenId }, 'token revoked');
      return { token: tokenToProto(rec) };
    },

    async whoAmI(_req, ctx) {
      const rec = await tokens.get(ctx.principal.tokenId);
      const p = ctx.principal;
      return { token: rec ? tokenToProto(rec) : { id: p.tokenId, name: p.name, role: tokenRoleEnum.toProto(p.role), pools: [...p.pools] } };
    },
  };
}
