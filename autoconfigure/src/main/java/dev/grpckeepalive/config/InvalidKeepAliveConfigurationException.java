package dev.grpckeepalive.config;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown at startup when {@code grpc.keepalive.*} (in companion mode, also Spring Boot's
 * {@code spring.grpc.*} keepalive properties) holds values that cannot work. Carries
 * every violation found, not only the first, so that one restart fixes them all.
 * {@link InvalidKeepAliveConfigurationFailureAnalyzer} turns it into a readable report.
 */
public class InvalidKeepAliveConfigurationException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final List<ConfigurationViolation> violations;

	public InvalidKeepAliveConfigurationException(List<ConfigurationViolation> violations) {
		super(describe(violations));
		this.violations = List.copyOf(violations);
	}

	public List<ConfigurationViolation> getViolations() {
		return this.violations;
	}

	private static String describe(List<ConfigurationViolation> violations) {
		return violations.stream()
			.map((violation) -> violation.property() + "=" + violation.value() + ": " + violation.problem())
			.collect(Collectors.joining("; ", "Invalid gRPC keepalive configuration: ", ""));
	}

}
