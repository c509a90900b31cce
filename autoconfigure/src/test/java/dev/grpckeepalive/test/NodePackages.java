package dev.grpckeepalive.test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A folder of the project with a {@code package.json} and {@code package-lock.json} whose npm
 * packages a test needs (the grpc-js peer, the Kubernetes manifests' validator). The build
 * installs them before any test starts ({@code interop/prepare-peers}, which autoconfigure's
 * {@code process-test-classes} phase runs): a test never runs {@code npm ci} within its own
 * timeout. Where they are missing (no Node.js, or tests started from an IDE on a fresh clone),
 * the tests are skipped with one line saying how to install them, unless an environment variable
 * makes that a failure (CI sets it).
 */
public final class NodePackages {

	private final String what;

	private final Path directory;

	private final List<Path> markers;

	private final String requiredVariable;

	/** Whether {@link #check()} has run in this JVM, and what it found. */
	private boolean checked;

	private String unavailableReason;

	/**
	 * @param what what the packages are for, in messages ("grpc-js interop tests")
	 * @param directory the folder with package.json, relative to the module
	 * @param markers files below {@code node_modules} that exist once all packages are installed
	 * @param requiredVariable environment variable that turns missing packages into a failure
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

	/** Skips the calling test where the packages are not installed, or fails it where required. */
	public void require() throws Exception {
		String unavailable = unavailable();
		if (unavailable != null && "true".equals(System.getenv(this.requiredVariable))) {
			throw new AssertionError(this.what + ": " + unavailable + " (" + this.requiredVariable + "=true)");
		}
		assumeTrue(unavailable == null, () -> this.what + " skipped: " + unavailable);
	}

	/** Why the packages cannot be used, or {@code null} once they can; decided once per JVM. */
	private synchronized String unavailable() throws IOException {
		if (!this.checked) {
			this.checked = true;
			this.unavailableReason = check();
			if (this.unavailableReason != null && !"true".equals(System.getenv(this.requiredVariable))) {
				// once, not once per test: surefire's summary only counts the skipped tests
				System.err.println(this.what + " skipped: " + this.unavailableReason);
			}
		}
		return this.unavailableReason;
	}

	private String check() throws IOException {
		if (!FaultInjection.runs("node", "--version")) {
			return "Node.js is not installed (no 'node' on the PATH)";
		}
		String prepare = "run interop/prepare-peers (./mvnw -B verify runs it before the tests), or 'npm ci' in "
				+ PeerPaths.relative(this.directory);
		// every marker: an interrupted npm ci can leave one package without the other
		if (!this.markers.stream().allMatch(Files::isRegularFile)) {
			return "its npm packages are not installed: " + prepare;
		}
		// npm writes node_modules/.package-lock.json at each install
		Path installed = this.directory.resolve("node_modules").resolve(".package-lock.json");
		if (Files.isRegularFile(installed) && Files.getLastModifiedTime(this.directory.resolve("package-lock.json"))
			.compareTo(Files.getLastModifiedTime(installed)) > 0) {
			return "its npm packages are older than package-lock.json: " + prepare;
		}
		return null;
	}

}
