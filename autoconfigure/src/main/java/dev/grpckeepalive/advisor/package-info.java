/**
 * The keepalive advisor: watches that read the connections' evidence and the configuration, and the findings and
 * recommendations they produce for the endpoint and the log.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.advisor;

import org.jspecify.annotations.NullMarked;
