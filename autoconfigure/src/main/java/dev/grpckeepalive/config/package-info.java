/**
 * The {@code grpc.keepalive.*} properties, their resolution into the settings a server or channel is built with, and
 * the validation against grpc-java's limits that fails startup on a contradiction.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.config;

import org.jspecify.annotations.NullMarked;
