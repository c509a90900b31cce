package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A folder of the project with a {@code package.json} and {@code package-lock.json} whose npm
 * packages a test needs (the grpc-js peer, the Kubernetes manifests' validator). Where Node.js
 * is installed but the packages are not, the first test that needs them runs {@code npm ci}
 * there, so that the README's test command runs those tests without a manual step. Without
 * Node.js (or its npm) the tests are skipped, with one line saying so, unless an environment
 * variable makes that a failure (CI sets it). A failing {@code npm ci} is always a failure:
 * Node.js is there, so the tests are meant to run.
 */
public final class NodePackages {

	/** Generous: a first install downloads a few megabytes; a registry that cannot be reached takes as long. */
	private static final Duration NPM_CI_TIMEOUT = Duration.ofMinutes(5);

	private final String what;

	private final Path directory;

	private final List<Path> markers;

	private final String requiredVariable;

	/** Whether {@link #check()} has run in this JVM, and what it found. */
	private boolean checked;

	private String unavailableReason;

	private AssertionError installFailure;

	/**
	 * @param what what the packages are for, in messages ("grpc-js interop tests")
	 * @param directory the folder with package.json, relative to the module
	 * @param markers files below {@code node_modules} that exist once all packages are installed
	 * @param requiredVariable environment variable that turns a missing Node.js into a failure
	 */
	public NodePackages(String what, Path directory, List<String> markers, String requiredVariable) {
		this.what = what;
		this.directory = directory.toAbsolutePath().normalize();
		this.markers = markers.stream().map((marker) -> this.directory.resolve("node_modules").resolve(marker)).toList();
		this.requiredVariable = requiredVariable;
	}

	/** The folder with the packages. */
	public Path directory() {
		return this.directory;
	}

	/** Installs the packages if needed; skips the calling test where Node.js is missing, or fails it where required. */
	public void require() throws Exception {
		String unavailable = unavailable();
		if (unavailable != null && "true".equals(System.getenv(this.requiredVariable))) {
			throw new AssertionError(this.what + ": " + unavailable + " (" + this.requiredVariable + "=true)");
		}
		assumeTrue(unavailable == null, () -> this.what + " skipped: " + unavailable);
	}

	/**
	 * Why the packages cannot be used, or {@code null} once they can. Decided once per JVM:
	 * tests run in parallel, and only the first of them may run {@code npm ci} (the others
	 * wait for it, and share its failure rather than each trying again).
	 */
	private synchronized String unavailable() throws Exception {
		if (!this.checked) {
			this.checked = true;
			try {
				this.unavailableReason = check();
			}
			catch (AssertionError ex) {
				this.installFailure = ex;
			}
			if (this.unavailableReason != null && !"true".equals(System.getenv(this.requiredVariable))) {
				// once, not once per test: surefire's summary only counts the skipped tests
				System.err.println(this.what + " skipped: " + this.unavailableReason);
			}
		}
		if (this.installFailure != null) {
			throw this.installFailure;
		}
		return this.unavailableReason;
	}

	private String check() throws Exception {
		if (!FaultInjection.runs("node", "--version")) {
			return "Node.js is not installed (no 'node' on the PATH)";
		}
		if (installed()) {
			return null;
		}
		if (!FaultInjection.runs(npm(), "--version")) {
			return "npm is not installed (no 'npm' on the PATH) to install the packages of " + this.directory.getFileName();
		}
		npmCi();
		return null;
	}

	private boolean installed() {
		// every marker: an interrupted npm ci can leave one package without the other
		return this.markers.stream().allMatch(Files::isRegularFile);
	}

	/** Installs the versions package-lock.json pins, as CI would; fails the test if that fails. */
	private void npmCi() throws Exception {
		System.err.println(this.what + ": running 'npm ci' in " + this.directory.getFileName()
				+ " (node_modules is missing)");
		long started = System.nanoTime();
		Process npm = new ProcessBuilder(npm(), "ci", "--no-audit", "--no-fund").directory(this.directory.toFile())
			.redirectErrorStream(true)
			.start();
		npm.getOutputStream().close();
		CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
			try {
				return new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			}
			catch (IOException ex) {
				return ex.toString();
			}
		});
		if (!npm.waitFor(NPM_CI_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
			npm.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			throw new AssertionError("'npm ci' in " + this.directory.getFileName() + " did not finish within "
					+ NPM_CI_TIMEOUT + "; is the npm registry reachable? Output:\n" + outputOf(output));
		}
		if (npm.exitValue() != 0 || !installed()) {
			throw new AssertionError("'npm ci' in " + this.directory.getFileName() + " failed (exit code "
					+ npm.exitValue() + "); run it by hand to see why. Output:\n" + outputOf(output));
		}
		System.err.println(this.what + ": packages installed in "
				+ Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
	}

	/** What npm printed; a process npm started may still hold the pipe open, so without waiting long. */
	private static String outputOf(CompletableFuture<String> output) throws Exception {
		return output.completeOnTimeout("(no output)", 5, TimeUnit.SECONDS).get();
	}

	/** npm is a batch script on Windows, which a process can only be started from by its full name. */
	private static String npm() {
		return System.getProperty("os.name", "").startsWith("Windows") ? "npm.cmd" : "npm";
	}

}
