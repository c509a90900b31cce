package dev.grpckeepalive.test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Prometheus' own programs, {@code prometheus} and {@code promtool} (Debian package
 * {@code prometheus}), for the tests of the shipped alert rules and dashboard (docs/fleet.md).
 * Where one is missing the test is skipped with a line saying how to run it, unless
 * {@value #REQUIRED} is {@code true} (CI sets it), where that is a failure.
 */
public final class PrometheusBinaries {

	/** Environment variable that turns a missing Prometheus from a skip into a failure. */
	public static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_PROMETHEUS";

	/** The repository's {@code ops/} folder, from the module's working directory. */
	public static final Path OPS = Path.of("..", "ops").toAbsolutePath().normalize();

	private PrometheusBinaries() {
	}

	/** Skips (or, in CI, fails) unless {@code promtool} runs. */
	public static void requirePromtool(String what) {
		require(what, "promtool");
	}

	/** Skips (or, in CI, fails) unless {@code prometheus} runs. */
	public static void requirePrometheus(String what) {
		require(what, "prometheus");
	}

	private static void require(String what, String program) {
		boolean available = FaultInjection.runs(program, "--version");
		String message = what + " needs " + program + ": install it (Debian package 'prometheus'), as .ci/run does";
		if (!available && "true".equals(System.getenv(REQUIRED))) {
			throw new AssertionError(message + " (" + REQUIRED + "=true)");
		}
		assumeTrue(available, message);
	}

}
