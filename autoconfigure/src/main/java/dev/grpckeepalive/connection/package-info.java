/**
 * Connection tracking: one record per server or client connection, its calls, PINGs, GOAWAYs and close reason,
 * and the read-only views and snapshots the endpoint, health and meters see.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.connection;

import org.jspecify.annotations.NullMarked;
