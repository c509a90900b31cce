package dev.grpckeepalive.config;

/**
 * One invalid {@code grpc.keepalive.*} value (in companion mode, possibly a
 * {@code spring.grpc.*} keepalive value): which property, what it was set to, why that is
 * wrong and how to fix it.
 *
 * @param property the full name of the property the user wrote
 * @param value the offending value as bound
 * @param problem why the value is rejected
 * @param fix what to change
 */
public record ConfigurationViolation(String property, String value, String problem, String fix) {
}
