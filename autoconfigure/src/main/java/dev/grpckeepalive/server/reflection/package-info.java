/**
 * gRPC server reflection on the starter's own server, opt-in, from grpc-java's {@code ProtoReflectionServiceV1}.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.server.reflection;

import org.jspecify.annotations.NullMarked;
