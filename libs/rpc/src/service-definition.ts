import { create, fromBinary, toBinary, type DescMethod, type DescService } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { decodeRequest } from './malformed-request.js';

/**
 * Builds a `@grpc/grpc-js` service definition from a protobuf-es v2 service descriptor, so the
 * generated `*_pb.ts` is the single source of truth and no `.proto` is loaded at run time.
 * Serializers accept init shapes (plain objects) as well as full messages.
 */
export function toGrpcServiceDefinition(svc: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of svc.methods) def[m.localName] = methodDefinition(svc, m);
  return def as ServiceDefinition;
}

function methodDefinition(svc: DescService, m: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: `/${svc.typeName}/${m.name}`,
    originalName: m.localName,
    requestStream: m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming',
    responseStream: m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming',
    requestSerialize: (v) => Buffer.from(toBinary(m.input, create(m.input, v as never))),
    // The server's side: bad bytes become a MalformedRequest, refused as INVALID_ARGUMENT.
    requestDeserialize: (b: Buffer) => decodeRequest(m, b),
    responseSerialize: (v) => Buffer.from(toBinary(m.output, create(m.output, v as never))),
    responseDeserialize: (b: Buffer) => fromBinary(m.output, b),
  };
}
