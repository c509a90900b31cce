package dev.grpckeepalive.test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Preconditions of the reliability scenarios that need more than a JVM: root for network
 * namespaces and blackhole routes, and programs such as HAProxy. Where one is missing the
 * test is skipped with a message that says how to run it, unless {@value #REQUIRED} is
 * {@code true} (CI runs as root and sets it), where that is a failure.
 */
public final class FaultInjection {

	/** Environment variable that turns a missing precondition from a skip into a failure. */
	public static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_FAULT_INJECTION";

	private FaultInjection() {
	}

	/** Skips (or, in CI, fails) unless the tests run as root with {@code ip netns} available. */
	public static void requireNetworkNamespaces(String scenario) {
		require(isRoot() && runs("ip", "netns", "list"), scenario + " needs root and iproute2 ('ip netns'): run the "
				+ "tests as root, as CI does");
	}

	/** Skips (or, in CI, fails) unless {@code command} runs with {@code versionArgument}. */
	public static void requireProgram(String scenario, String command, String versionArgument, String debianPackage) {
		require(runs(command, versionArgument), scenario + " needs " + command + ": install it (Debian package '"
				+ debianPackage + "'), as .ci/run does");
	}

	/**
	 * Skips (or, in CI, fails) with {@code message} unless {@code available}: for a
	 * precondition found out by trying (a kernel feature, say).
	 */
	public static void require(boolean available, String message) {
		if (!available && "true".equals(System.getenv(REQUIRED))) {
			throw new AssertionError(message + " (" + REQUIRED + "=true)");
		}
		assumeTrue(available, message);
	}

	private static boolean isRoot() {
		return "root".equals(System.getProperty("user.name"));
	}

	/** Whether {@code command} exits with status 0 within ten seconds. */
	public static boolean runs(String... command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			process.getInputStream().readAllBytes();
			return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
		}
		catch (Exception ex) {
			return false;
		}
	}

}
