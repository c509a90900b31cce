/**
 * What the starter and grpc-java log about misbehaving clients, condensed so that an attacker cannot turn it
 * into an amplifier.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.logging;

import org.jspecify.annotations.NullMarked;
