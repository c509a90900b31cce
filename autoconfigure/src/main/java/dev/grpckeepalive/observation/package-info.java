/**
 * Micrometer Observations of the calls on the starter's own server and channels, with Micrometer's gRPC
 * interceptors and Spring Boot's conventions.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.observation;

import org.jspecify.annotations.NullMarked;
