/**
 * Operator actions on the server's connections, behind the endpoint's write operations: drain
 * one connection, and rebalance (drain a share of them, or down to a number, oldest first,
 * spread over a period so that clients reconnect without a thundering herd).
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.operate;

import org.jspecify.annotations.NullMarked;
