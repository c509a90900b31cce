package dev.grpckeepalive.config;

import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.TestService;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.env.StandardEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Invalid {@code grpc.keepalive.*} values fail startup with a report that names the
 * property, the value as written, why it is wrong and how to fix it.
 */
@ExtendWith(OutputCaptureExtension.class)
@ResourceLock(Resources.SYSTEM_OUT)
@Execution(ExecutionMode.SAME_THREAD)
class InvalidKeepAliveConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class))
		.withBean(TestService.class)
		.withPropertyValues("grpc.keepalive.server.port=0");

	static Stream<Arguments> invalidConfigurations() {
		return Stream.of(
				arguments("grpc.keepalive.server.time=-5s", "grpc.keepalive.server.time", "-5s",
						"must be a positive duration", "remove the property for the gRPC default of 2h"),
				arguments("grpc.keepalive.server.timeout=0", "grpc.keepalive.server.timeout", "0",
						"must be a positive duration", "the gRPC default of 20s"),
				arguments("grpc.keepalive.server.permit-time=-1s", "grpc.keepalive.server.permit-time", "-1s",
						"must not be negative", "Use 0 to accept pings at any rate"),
				arguments("grpc.keepalive.server.max-connection-idle=0s", "grpc.keepalive.server.max-connection-idle",
						"0s", "must be a positive duration", "no idle limit"),
				arguments("grpc.keepalive.server.max-connection-age=-1", "grpc.keepalive.server.max-connection-age",
						"-1", "must be a positive duration", "no age limit"),
				arguments("grpc.keepalive.server.max-connection-age-grace=10s",
						"grpc.keepalive.server.max-connection-age-grace", "10s",
						"has no effect without grpc.keepalive.server.max-connection-age",
						"Set grpc.keepalive.server.max-connection-age as well"),
				arguments("grpc.keepalive.server.shutdown-grace=-3s", "grpc.keepalive.server.shutdown-grace", "-3s",
						"must not be negative", "Use 0 to close in-flight calls (UNAVAILABLE) at once"),
				arguments("grpc.keepalive.server.handshake-timeout=0s", "grpc.keepalive.server.handshake-timeout",
						"0s", "must be a positive duration", "the gRPC default of 120s"),
				arguments("grpc.keepalive.server.limits.max-rst-frames=0", "grpc.keepalive.server.limits.max-rst-frames",
						"0", "must be positive, or -1 for no limit", "or -1 to turn the limit off"),
				arguments("grpc.keepalive.server.limits.rst-frames-window=1500ms",
						"grpc.keepalive.server.limits.rst-frames-window", "1500ms", "must be a whole number of seconds",
						"Use a duration in whole seconds such as 1s"),
				arguments("grpc.keepalive.server.limits.rst-frames-window=0s",
						"grpc.keepalive.server.limits.rst-frames-window", "0s", "must be a positive duration",
						"the default of 1s"),
				arguments("grpc.keepalive.server.limits.max-concurrent-calls-per-connection=-5",
						"grpc.keepalive.server.limits.max-concurrent-calls-per-connection", "-5",
						"must be positive, or -1 for no limit", "Use a positive number of calls, such as 100"),
				arguments("grpc.keepalive.server.limits.max-inbound-metadata-size=0",
						"grpc.keepalive.server.limits.max-inbound-metadata-size", "0",
						"must be between 1B and 2147483647B", "-1 to turn the limit off"),
				arguments("grpc.keepalive.server.limits.max-inbound-metadata-size=3GB",
						"grpc.keepalive.server.limits.max-inbound-metadata-size", "3GB",
						"must be between 1B and 2147483647B", "Use a size such as 8KB"),
				arguments("grpc.keepalive.server.port=70000", "grpc.keepalive.server.port", "70000",
						"is not a TCP port", "0 to pick a free port"),
				arguments("grpc.keepalive.client.defaults.time=0ms", "grpc.keepalive.client.defaults.time", "0ms",
						"must be a positive duration", "keepalive disabled"),
				arguments("grpc.keepalive.client.defaults.timeout=-1ms", "grpc.keepalive.client.defaults.timeout",
						"-1ms", "must be a positive duration", "the gRPC default of 20s"),
				arguments("grpc.keepalive.client.channels.orders.time=30s",
						"grpc.keepalive.client.channels.orders.target", "null", "is required",
						"Set grpc.keepalive.client.channels.orders.target to a gRPC target"),
				arguments("grpc.keepalive.client.channels.orders.target=orders service:9090",
						"grpc.keepalive.client.channels.orders.target", "orders service:9090",
						"contains white space", "Remove the white space"),
				arguments("grpc.keepalive.client.channels.orders.target=localhost:1,"
						+ "grpc.keepalive.client.channels.orders.timeout=-20s",
						"grpc.keepalive.client.channels.orders.timeout", "-20s", "must be a positive duration",
						"client.defaults.timeout"));
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("invalidConfigurations")
	void failsStartupWithPreciseReport(String properties, String property, String value, String problem,
			String fix) {
		String[] pairs = properties.split(",");
		this.runner.withPropertyValues(pairs).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasRootCauseInstanceOf(InvalidKeepAliveConfigurationException.class);
			FailureAnalysis analysis = analyze(context.getStartupFailure(), pairs);
			assertThat(analysis.getDescription()).contains("Property: " + property)
				.contains("Value:    \"" + value + "\"")
				.contains(problem);
			assertThat(analysis.getAction()).contains(property + ": ").contains(fix);
		});
	}

	@Test
	void reportsEveryViolationAtOnce() {
		String[] pairs = { "grpc.keepalive.server.time=-1s", "grpc.keepalive.server.timeout=0",
				"grpc.keepalive.client.channels.a.time=5s" };
		this.runner.withPropertyValues(pairs).run((context) -> {
			InvalidKeepAliveConfigurationException failure = (InvalidKeepAliveConfigurationException) NestedExceptionUtils
				.getRootCause(context.getStartupFailure());
			assertThat(failure.getViolations()).extracting(ConfigurationViolation::property)
				.containsExactly("grpc.keepalive.server.time", "grpc.keepalive.server.timeout",
						"grpc.keepalive.client.channels.a.target");
		});
	}

	@Test
	void targetWithUnresolvableSchemeIsReportedAgainstItsProperty() {
		String[] pairs = { "grpc.keepalive.client.channels.orders.target=nosuchscheme:///orders" };
		this.runner.withPropertyValues(pairs).run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = analyze(context.getStartupFailure(), pairs);
			assertThat(analysis.getDescription()).contains("Property: grpc.keepalive.client.channels.orders.target")
				.contains("is not a target grpc-java can resolve");
		});
	}

	@Test
	void misspeltPropertyFailsStartupInsteadOfBeingIgnored() {
		this.runner.withPropertyValues("grpc.keepalive.server.keepalive-time=30s").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.hasMessageContaining("grpc.keepalive.server.keepalive-time");
		});
	}

	@Test
	void applicationReportNamesOriginOfInvalidValue(CapturedOutput output) {
		assertThatException().isThrownBy(() -> TestApps.server("spring.config.location=classpath:invalid-keepalive.yml"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: grpc.keepalive.server.max-connection-age")
			.contains("Value:    \"-30s\"")
			.contains("Origin:   class path resource [invalid-keepalive.yml]")
			.contains("grpc.keepalive.server.max-connection-age: Use a positive duration such as 30s");
	}

	private static FailureAnalysis analyze(Throwable failure, String... properties) {
		StandardEnvironment environment = new StandardEnvironment();
		TestPropertyValues.of(properties).applyTo(environment);
		FailureAnalysis analysis = new InvalidKeepAliveConfigurationFailureAnalyzer(environment).analyze(failure);
		assertThat(analysis).isNotNull();
		return analysis;
	}

}
