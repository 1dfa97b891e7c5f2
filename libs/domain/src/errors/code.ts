/**
 * The closed set of error codes Longshore uses. Values mirror gRPC status codes
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) so the edge maps them 1:1.
 */
export enum Code {
  Cancelled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  Unauthenticated = 16,
}
