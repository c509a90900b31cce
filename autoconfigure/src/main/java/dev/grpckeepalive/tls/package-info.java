/**
 * TLS for servers and channels from Spring Boot SSL bundles.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.tls;

import org.jspecify.annotations.NullMarked;
