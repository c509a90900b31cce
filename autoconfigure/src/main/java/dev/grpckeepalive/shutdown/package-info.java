/**
 * Graceful shutdown of a server's connections: the moment shutdown starts, the calls in flight
 * on each connection, and closing those still open when the grace ends.
 */
@NullMarked
package dev.grpckeepalive.shutdown;

import org.jspecify.annotations.NullMarked;
