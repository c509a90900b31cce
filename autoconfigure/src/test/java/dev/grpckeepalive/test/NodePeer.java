package dev.grpckeepalive.test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.jayway.jsonpath.DocumentContext;
import com.jayway.jsonpath.JsonPath;


/**
 * A grpc-js process ({@code interop/grpc-js/peer.js}) that reports on stdout, one JSON
 * object per line.
 *
 * <p>Its npm packages are installed on first use where Node.js is present ({@link NodePackages});
 * tests that need a peer are skipped only where Node.js is missing, unless {@value #REQUIRED}
 * is {@code true} (CI sets it), where that is a failure.
 */
public final class NodePeer implements AutoCloseable {

	/** Environment variable that turns a missing grpc-js peer from a skip into a failure. */
	public static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_INTEROP";

	/** The peer's npm packages, installed on first use where Node.js is present. */
	private static final NodePackages PACKAGES = new NodePackages("grpc-js interop tests",
			Path.of("..", "interop", "grpc-js"),
			List.of("@grpc/grpc-js/package.json", "@grpc/proto-loader/package.json"), REQUIRED);

	private static final Path DIRECTORY = PACKAGES.directory();

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
		PACKAGES.require();
		return new NodePeer(List.of(arguments));
	}

	/** Installs the peer's npm packages if needed, or skips the test where Node.js is not installed: for {@code @BeforeAll}. */
	public static void require() throws Exception {
		PACKAGES.require();
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
