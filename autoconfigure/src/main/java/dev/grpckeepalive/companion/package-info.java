/**
 * Companion mode: when Spring Boot's own gRPC server or client runs, this starter hooks into them through their
 * customizers instead of starting its own.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.companion;

import org.jspecify.annotations.NullMarked;
