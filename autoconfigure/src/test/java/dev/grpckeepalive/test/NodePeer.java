package dev.grpckeepalive.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A grpc-js process ({@code interop/grpc-js/peer.js}) that reports on stdout, one JSON
 * object per line.
 *
 * <p>Where Node.js is installed but {@code interop/grpc-js/node_modules} is not, the first
 * test to start a peer runs {@code npm ci} there, so that the README's test command runs
 * the interop tests without a manual step. Tests that need a peer are skipped only where
 * Node.js (or its npm) is missing, with one line saying so, unless {@value #REQUIRED} is
 * {@code true} (CI sets it), where that is a failure. A failing {@code npm ci} is always a
 * failure: Node.js is there, so the tests are meant to run.
 */
public final class NodePeer implements AutoCloseable {

	/** Environment variable that turns a missing grpc-js peer from a skip into a failure. */
	public static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_INTEROP";

	private static final Path DIRECTORY = Path.of("..", "interop", "grpc-js").toAbsolutePath().normalize();

	/** Generous: a first install downloads a few megabytes; a registry that cannot be reached takes as long. */
	private static final Duration NPM_CI_TIMEOUT = Duration.ofMinutes(5);

	/** Whether {@link #check()} has run in this JVM, and what it found. */
	private static boolean checked;

	private static String unavailableReason;

	private static AssertionError installFailure;

	private final Process process;

	private final BlockingQueue<DocumentContext> events = new LinkedBlockingQueue<>();

	private NodePeer(List<String> arguments) throws Exception {
		List<String> command = new ArrayList<>(List.of("node", DIRECTORY.resolve("peer.js").toString()));
		command.addAll(arguments);
		this.process = new ProcessBuilder(command).directory(DIRECTORY.toFile())
			.redirectError(ProcessBuilder.Redirect.INHERIT)
			.start();
		Thread reader = new Thread(() -> {
			try (BufferedReader lines = new BufferedReader(
					new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
				String line;
				while ((line = lines.readLine()) != null) {
					this.events.add(JsonPath.parse(line));
				}
			}
			catch (Exception ex) {
				// the process ended
			}
		}, "node-peer-stdout");
		reader.setDaemon(true);
		reader.start();
	}

	/**
	 * Starts {@code node peer.js <arguments>}, installing the peer's npm packages first if
	 * needed, or skips the test where Node.js is not installed.
	 */
	public static NodePeer start(String... arguments) throws Exception {
		String unavailable = unavailable();
		if (unavailable != null && required()) {
			throw new AssertionError("grpc-js interop peer unavailable: " + unavailable + " (" + REQUIRED + "=true)");
		}
		assumeTrue(unavailable == null, () -> "grpc-js interop tests skipped: " + unavailable);
		return new NodePeer(List.of(arguments));
	}

	/**
	 * Why no peer can run, or {@code null} once one can. Decided once per JVM: the interop
	 * tests run in parallel, and only the first of them may run {@code npm ci} (the others
	 * wait for it, and share its failure rather than each trying again).
	 */
	private static synchronized String unavailable() throws Exception {
		if (!checked) {
			checked = true;
			try {
				unavailableReason = check();
			}
			catch (AssertionError ex) {
				installFailure = ex;
			}
			if (unavailableReason != null && !required()) {
				// once, not once per test: surefire's summary only counts the skipped tests
				System.err.println("grpc-js interop tests skipped: " + unavailableReason);
			}
		}
		if (installFailure != null) {
			throw installFailure;
		}
		return unavailableReason;
	}

	private static String check() throws Exception {
		if (!runs("node", "--version")) {
			return "Node.js is not installed (no 'node' on the PATH)";
		}
		if (installed()) {
			return null;
		}
		if (!runs(npm(), "--version")) {
			return "npm is not installed (no 'npm' on the PATH) to install interop/grpc-js's packages";
		}
		npmCi();
		return null;
	}

	private static boolean required() {
		return "true".equals(System.getenv(REQUIRED));
	}

	private static boolean installed() {
		Path packages = DIRECTORY.resolve("node_modules").resolve("@grpc");
		// Both packages peer.js requires: an interrupted npm ci can leave one without the other.
		return Files.isRegularFile(packages.resolve("grpc-js").resolve("package.json"))
				&& Files.isRegularFile(packages.resolve("proto-loader").resolve("package.json"));
	}

	/** Installs the versions package-lock.json pins, as CI would; fails the test if that fails. */
	private static void npmCi() throws Exception {
		System.err.println("grpc-js interop peer: running 'npm ci' in interop/grpc-js (node_modules is missing)");
		long started = System.nanoTime();
		Process npm = new ProcessBuilder(npm(), "ci", "--no-audit", "--no-fund").directory(DIRECTORY.toFile())
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
			throw new AssertionError("'npm ci' in interop/grpc-js did not finish within " + NPM_CI_TIMEOUT
					+ "; is the npm registry reachable? Output:\n" + outputOf(output));
		}
		if (npm.exitValue() != 0 || !installed()) {
			throw new AssertionError("'npm ci' in interop/grpc-js failed (exit code " + npm.exitValue()
					+ "); run it by hand to see why. Output:\n" + outputOf(output));
		}
		System.err.println("grpc-js interop peer: installed in "
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

	private static boolean runs(String... command) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			process.getInputStream().readAllBytes();
			return process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0;
		}
		catch (Exception ex) {
			return false;
		}
	}

	/** The next event the peer printed, waiting up to {@code timeout}. */
	public DocumentContext nextEvent(Duration timeout) throws InterruptedException {
		DocumentContext event = this.events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
		if (event == null) {
			throw new AssertionError("grpc-js peer printed nothing within " + timeout);
		}
		return event;
	}

	@Override
	public void close() throws Exception {
		this.process.getOutputStream().close();
		if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
			this.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
		}
	}

}
