/**
 * Keepalive-managed grpc-java channels: their factory, the named channel beans, the registry of tracked channels and
 * the customizer hook for users.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.client;

import org.jspecify.annotations.NullMarked;
