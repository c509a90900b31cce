/**
 * The Actuator side: the {@code grpckeepalive} endpoint, the health contributors and the Micrometer meters,
 * each auto-configured only when Actuator, health or Micrometer is on the classpath.
 *
 * <p>Null-marked: a type without {@code @Nullable} is never null; NullAway checks it at compile time.
 */
@NullMarked
package dev.grpckeepalive.actuate;

import org.jspecify.annotations.NullMarked;
