/**
 * {@code grpc.health.v1} on the starter's own server, from grpc-java's {@code HealthStatusManager}: every served
 * service listed, the status following the application's readiness, NOT_SERVING before the shutdown's GOAWAY.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.server.health;

import org.jspecify.annotations.NullMarked;
