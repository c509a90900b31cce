package dev.grpckeepalive.companion;

import java.util.stream.Collectors;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains {@link SkippedCustomizersException}: which customizer beans Spring Boot would skip,
 * why, and how to retype them.
 */
class SkippedCustomizersFailureAnalyzer extends AbstractFailureAnalyzer<SkippedCustomizersException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, SkippedCustomizersException cause) {
		String beans = cause.getSkipped()
			.stream()
			.map((skipped) -> "    - bean '" + skipped.bean() + "'"
					+ ((skipped.source() != null) ? " (" + skipped.source() + ")" : "") + ": "
					+ skipped.customizer() + "<" + skipped.target() + ">, but Spring Boot builds " + skipped.what()
					+ " with " + skipped.builder())
			.collect(Collectors.joining("\n"));
		String description = "Spring Boot would skip these gRPC customizers without a word:\n" + beans + "\n\n"
				+ "This starter brings grpc-netty-shaded, and Spring Boot then builds its gRPC server and channels"
				+ " with grpc-netty-shaded's builders; it applies a customizer only to the builder type the customizer"
				+ " names.";
		String action = "Type each customizer on grpc-netty-shaded's builder: ServerBuilderCustomizer<"
				+ UnshadedCustomizerCheck.SERVER.builder() + "> or GrpcChannelBuilderCustomizer<"
				+ UnshadedCustomizerCheck.CHANNELS.builder() + ">, importing from io.grpc.netty.shaded.io.grpc.netty"
				+ " (and io.grpc.netty.shaded.io.netty for Netty's own types) instead of io.grpc.netty and io.netty."
				+ " A customizer that calls only grpc-java's common builder methods can instead implement the raw"
				+ " ServerBuilderCustomizer or GrpcChannelBuilderCustomizer, which Spring Boot applies to every builder.";
		return new FailureAnalysis(description, action, cause);
	}

}
