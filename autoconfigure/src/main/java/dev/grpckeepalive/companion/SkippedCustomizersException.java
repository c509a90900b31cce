package dev.grpckeepalive.companion;

import java.util.List;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

/**
 * Thrown at startup when Spring Boot would skip some of the application's gRPC customizers
 * because they are typed on unshaded grpc-netty's builders; see {@link UnshadedCustomizerCheck}.
 */
final class SkippedCustomizersException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final transient List<Skipped> skipped;

	SkippedCustomizersException(List<Skipped> skipped) {
		super("Spring Boot would skip these gRPC customizers: " + skipped.stream()
			.map((customizer) -> "'" + customizer.bean() + "'")
			.collect(Collectors.joining(", ")));
		this.skipped = List.copyOf(skipped);
	}

	List<Skipped> getSkipped() {
		return this.skipped;
	}

	/**
	 * A customizer bean Spring Boot would skip.
	 * @param bean the bean's name
	 * @param source where the bean is declared (its {@code @Bean} method, else its class), or {@code null} if unknown
	 * @param customizer the customizer interface's simple name
	 * @param target the builder type it names
	 * @param what what it was meant to customize
	 * @param builder the builder type Spring Boot builds that with
	 */
	record Skipped(String bean, @Nullable String source, String customizer, String target, String what,
			String builder) {
	}

}
