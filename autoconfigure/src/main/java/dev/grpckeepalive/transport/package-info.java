/**
 * Netty transport instrumentation: the HTTP/2 frame observer, the frame flood guard, the connection cap and the
 * event loops they run on.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.transport;

import org.jspecify.annotations.NullMarked;
