/**
 * The keepalive-managed grpc-java Netty server: its builder factory, its lifecycle as a Spring bean and the
 * customizer hook for users.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.server;

import org.jspecify.annotations.NullMarked;
