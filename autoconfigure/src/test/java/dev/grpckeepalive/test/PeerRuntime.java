package dev.grpckeepalive.test;

import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What an interop peer needs before it can run (an interpreter, a library, a build the build
 * made), checked once per JVM. Where it is missing the tests that need it are skipped, with one
 * line saying so, unless {@value InteropPeer#REQUIRED} is {@code true} (CI), where that is a
 * failure.
 */
final class PeerRuntime {

	private final String what;

	private final Callable<String> check;

	private boolean checked;

	private String unavailableReason;

	/**
	 * @param what what needs it, in messages ("grpc-go interop peer")
	 * @param check returns why the peer cannot run, or {@code null} where it can
	 */
	PeerRuntime(String what, Callable<String> check) {
		this.what = what;
		this.check = check;
	}

	/** Skips the calling test where the runtime is missing, or fails it where required. */
	void require() throws Exception {
		String unavailable = unavailable();
		if (unavailable != null && InteropPeer.required()) {
			throw new AssertionError(this.what + ": " + unavailable + " (" + InteropPeer.REQUIRED + "=true)");
		}
		assumeTrue(unavailable == null, () -> this.what + " skipped: " + unavailable);
	}

	/** Decided once per JVM, and said once: tests run in parallel. */
	private synchronized String unavailable() throws Exception {
		if (!this.checked) {
			this.checked = true;
			this.unavailableReason = this.check.call();
			if (this.unavailableReason != null && !InteropPeer.required()) {
				// once, not once per test: surefire's summary only counts the skipped tests
				System.err.println(this.what + " skipped: " + this.unavailableReason);
			}
		}
		return this.unavailableReason;
	}

}
