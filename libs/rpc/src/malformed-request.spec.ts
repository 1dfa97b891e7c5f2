import { Client, credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DispatcherService } from '@longshore/proto';
import { silentLogger } from '@longshore/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RpcServer, SERVER_CHANNEL_OPTIONS } from './server.js';
import type { ServiceImpl } from './types.js';

const notUsed = () => {
  throw new Error('not used in this test');
};
const impl = new Proxy({} as ServiceImpl<(typeof DispatcherService)['method']>, {
  get: (_t, name) =>
    name === 'getJob'
      ? async (req: { id: string }) => ({ job: { id: req.id } })
      : name === 'watchJob'
        ? async function* (req: { id: string }) {
            yield { job: { id: req.id } };
          }
        : notUsed,
});

/** Sends raw bytes as a request and resolves with the status the server answered. */
function rawCall(client: Client, path: string, bytes: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      new Metadata(),
      {},
      (err: ServiceError | null) => resolve(err ? { code: err.code, details: err.details } : { code: GrpcStatus.OK, details: '' }),
    );
  });
}

describe('malformed request bytes', () => {
  const server = new RpcServer(silentLogger()).register(DispatcherService, impl);
  let client: Client;
  beforeAll(async () => {
    client = new Client(await server.listen('127.0.0.1:0'), credentials.createInsecure());
  });
  afterAll(async () => {
    client.close();
    await server.close(100);
  });

  it('are refused as INVALID_ARGUMENT naming the message type, not INTERNAL', async () => {
    // Field 1 (id) as a string of length 100 with 2 bytes present; then a bare wrong wire type.
    for (const bytes of [Buffer.from([0x0a, 100, 0x41, 0x42]), Buffer.from([0x0f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]) {
      const res = await rawCall(client, '/longshore.v1.DispatcherService/GetJob', bytes);
      expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details).toMatch(/^request: is not a valid longshore\.v1\.GetJobRequest message/);
    }
    // Well-formed bytes still work.
    expect((await rawCall(client, '/longshore.v1.DispatcherService/GetJob', Buffer.from([0x0a, 1, 0x41]))).code).toBe(GrpcStatus.OK);
  });

  it('are refused on streaming calls too', async () => {
    const res = await new Promise<ServiceError>((resolve) => {
      const call = client.makeServerStreamRequest('/longshore.v1.DispatcherService/WatchJob', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 50]), new Metadata(), {});
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(res.details).toMatch(/WatchJobRequest/);
  });

  it('larger than the message limit are refused with RESOURCE_EXHAUSTED naming the limit', async () => {
    const big = Buffer.alloc(SERVER_CHANNEL_OPTIONS['grpc.max_receive_message_length'] + 1);
    const res = await rawCall(client, '/longshore.v1.DispatcherService/GetJob', big);
    expect(res.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(res.details).toMatch(/16777216/);
  });
});
