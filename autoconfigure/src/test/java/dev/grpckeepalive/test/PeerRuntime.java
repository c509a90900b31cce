package dev.grpckeepalive.test;

import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What an interop peer needs before it can run (an interpreter, a library, a build), checked
 * and prepared once per JVM. Where it is missing the tests that need it are skipped, with one
 * line saying so, unless {@value InteropPeer#REQUIRED} is {@code true} (CI), where that is a
 * failure. A preparation that fails (a build error) is always a failure: the runtime is there,
 * so the tests are meant to run.
 */
final class PeerRuntime {

	private final String what;

	private final Callable<String> check;

	private boolean checked;

	private String unavailableReason;

	private AssertionError preparationFailure;

	/**
	 * @param what what needs it, in messages ("grpc-go interop peer")
	 * @param check prepares the runtime; returns why it cannot run, {@code null} once it can,
	 * or throws {@link AssertionError} where preparing it failed
	 */
	PeerRuntime(String what, Callable<String> check) {
		this.what = what;
		this.check = check;
	}

	/** Prepares the runtime if needed; skips the calling test where it is missing, or fails it where required. */
	void require() throws Exception {
		String unavailable = unavailable();
		if (unavailable != null && InteropPeer.required()) {
			throw new AssertionError(this.what + ": " + unavailable + " (" + InteropPeer.REQUIRED + "=true)");
		}
		assumeTrue(unavailable == null, () -> this.what + " skipped: " + unavailable);
	}

	/**
	 * Decided once per JVM: tests run in parallel, and only the first may prepare the runtime
	 * (the others wait for it, and share its failure rather than each trying again).
	 */
	private synchronized String unavailable() throws Exception {
		if (!this.checked) {
			this.checked = true;
			try {
				this.unavailableReason = this.check.call();
			}
			catch (AssertionError ex) {
				this.preparationFailure = ex;
			}
			if (this.unavailableReason != null && !InteropPeer.required()) {
				// once, not once per test: surefire's summary only counts the skipped tests
				System.err.println(this.what + " skipped: " + this.unavailableReason);
			}
		}
		if (this.preparationFailure != null) {
			throw this.preparationFailure;
		}
		return this.unavailableReason;
	}

}
