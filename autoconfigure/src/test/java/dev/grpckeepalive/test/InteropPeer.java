package dev.grpckeepalive.test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * A gRPC peer of another implementation, run as a process that speaks the peers' common
 * command line (docs/interop.md) and reports on stdout, one JSON object per line:
 * <ul>
 * <li>{@link #python gRPC C-core} through Debian's {@code python3-grpcio}
 * ({@code interop/python/peer.py});</li>
 * <li>{@link #go grpc-go}, built from {@code interop/grpc-go} against Debian's
 * {@code golang-google-grpc-dev} ({@link GoPeerBinary});</li>
 * <li>{@link #node grpc-js} ({@code interop/grpc-js/peer.js}) with its npm packages
 * ({@link NodePackages}).</li>
 * </ul>
 * The build prepares the grpc-go binary and the npm packages before any test starts
 * ({@code interop/prepare-peers}). Call {@link #requirePython()}, {@link #requireGo()} or
 * {@link #requireNode()} from {@code @BeforeAll}: they skip the tests where a peer cannot run,
 * with one line saying how to prepare it, unless {@value #REQUIRED} is {@code true} (CI), where
 * that is a failure.
 */
public final class InteropPeer implements AutoCloseable {

	/** Environment variable that turns a missing interop peer from a skip into a failure. */
	public static final String REQUIRED = "GRPC_KEEPALIVE_REQUIRE_INTEROP";

	/**
	 * How long a peer process may take to start, connect and print on top of what it was asked
	 * to run: Node.js or a Python interpreter starting on a loaded 2-core machine takes seconds
	 * (a grpc-js client asked for 13 s printed nothing within 20 s under load).
	 */
	public static final Duration START_ALLOWANCE = Duration.ofSeconds(30);

	/** Debian's interpreter, whose {@code python3-grpcio} is C-core; not whatever python3 comes first on the PATH. */
	private static final String SYSTEM_PYTHON = "/usr/bin/python3";

	private static final Path PYTHON_DIRECTORY = Path.of("..", "interop", "python").toAbsolutePath().normalize();

	private static final PeerRuntime PYTHON = new PeerRuntime("gRPC C-core (Python) interop peer",
			InteropPeer::checkPython);

	private static final PeerRuntime GO = new PeerRuntime("grpc-go interop peer", GoPeerBinary::check);

	/** The grpc-js peer's npm packages, installed by the build before the tests. */
	private static final NodePackages NODE_PACKAGES = new NodePackages("grpc-js interop peer",
			Path.of("..", "interop", "grpc-js"),
			List.of("@grpc/grpc-js/package.json", "@grpc/proto-loader/package.json"), REQUIRED);

	private final String name;

	private final Process process;

	private final BlockingQueue<DocumentContext> events = new LinkedBlockingQueue<>();

	private volatile boolean ended;

	private InteropPeer(String name, List<String> command, Path directory) throws Exception {
		this.name = name;
		this.process = new ProcessBuilder(command).directory(directory.toFile())
			.redirectError(ProcessBuilder.Redirect.INHERIT)
			.start();
		Thread reader = new Thread(this::readEvents, name + "-peer-stdout");
		reader.setDaemon(true);
		reader.start();
	}

	/** Starts {@code peer.py <arguments>} with Debian's Python (gRPC C-core); skips or fails as {@link #requirePython()}. */
	public static InteropPeer python(String... arguments) throws Exception {
		requirePython();
		return start("grpc-python", PYTHON_DIRECTORY, List.of(SYSTEM_PYTHON, PYTHON_DIRECTORY.resolve("peer.py").toString()),
				arguments);
	}

	/** Starts the grpc-go peer with {@code arguments}; skips or fails as {@link #requireGo()}. */
	public static InteropPeer go(String... arguments) throws Exception {
		requireGo();
		return start("grpc-go", GoPeerBinary.path().getParent(), List.of(GoPeerBinary.path().toString()), arguments);
	}

	/** Starts {@code node peer.js <arguments>}; skips or fails as {@link #requireNode()}. */
	public static InteropPeer node(String... arguments) throws Exception {
		requireNode();
		Path directory = NODE_PACKAGES.directory();
		return start("grpc-js", directory, List.of("node", directory.resolve("peer.js").toString()), arguments);
	}

	private static InteropPeer start(String name, Path directory, List<String> program, String... arguments)
			throws Exception {
		List<String> command = new ArrayList<>(program);
		command.addAll(List.of(arguments));
		return new InteropPeer(name, command, directory);
	}

	/** Checks that Debian's Python with gRPC is installed; skips the calling test or fails it where required. */
	public static void requirePython() throws Exception {
		PYTHON.require();
	}

	/** Skips the calling test where the grpc-go peer is not built (or Go is missing), or fails it where required. */
	public static void requireGo() throws Exception {
		GO.require();
	}

	/** Skips the calling test where Node.js or the grpc-js peer's npm packages are missing, or fails it where required. */
	public static void requireNode() throws Exception {
		NODE_PACKAGES.require();
	}

	static boolean required() {
		return "true".equals(System.getenv(REQUIRED));
	}

	private static String checkPython() {
		if (!Files.isExecutable(Path.of(SYSTEM_PYTHON))) {
			return SYSTEM_PYTHON + " is not installed (Debian: python3)";
		}
		if (!FaultInjection.runs(SYSTEM_PYTHON, "-c", "import grpc.aio")) {
			return SYSTEM_PYTHON + " cannot import grpc (Debian: python3-grpcio)";
		}
		return null;
	}

	private void readEvents() {
		try (BufferedReader lines = new BufferedReader(
				new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = lines.readLine()) != null) {
				try {
					this.events.add(JsonPath.parse(line));
				}
				catch (RuntimeException ex) {
					System.err.println(this.name + " peer printed a line that is not JSON: " + line);
				}
			}
		}
		catch (Exception ex) {
			// the process ended
		}
		finally {
			this.ended = true;
		}
	}

	/**
	 * The next event the peer printed, waiting up to {@code timeout}.
	 * @throws AssertionError if the peer printed none within {@code timeout}, or exited without one
	 */
	public DocumentContext nextEvent(Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			// read 'ended' first: an event printed just before the end is then still found
			boolean endedBefore = this.ended;
			DocumentContext event = this.events.poll(
					Math.min(200_000_000L, Math.max(0, deadline - System.nanoTime())), TimeUnit.NANOSECONDS);
			if (event != null) {
				return event;
			}
			if (endedBefore) {
				throw new AssertionError(this.name + " peer exited" + exitCode() + " without printing another event");
			}
			if (System.nanoTime() - deadline >= 0) {
				throw new AssertionError(this.name + " peer printed nothing within " + timeout);
			}
		}
	}

	/**
	 * The peer's {@code {"event":"result"}} line, skipping any other events, waiting up to {@code timeout}.
	 * @throws AssertionError if it printed none within {@code timeout}, or exited without one
	 */
	public DocumentContext result(Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
			DocumentContext event;
			try {
				event = nextEvent(left);
			}
			catch (AssertionError ex) {
				throw new AssertionError(this.name + " peer printed no result within " + timeout + ": " + ex.getMessage());
			}
			if ("result".equals(event.read("$.event", String.class))) {
				return event;
			}
		}
	}

	private String exitCode() {
		try {
			return this.process.waitFor(1, TimeUnit.SECONDS) ? " with code " + this.process.exitValue() : "";
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return "";
		}
	}

	/** Ends the peer: closes its stdin (a server's cue to stop), then terminates it if it is still running. */
	@Override
	public void close() throws Exception {
		this.process.getOutputStream().close();
		if (!this.process.waitFor(2, TimeUnit.SECONDS)) {
			this.process.destroy();
			if (!this.process.waitFor(3, TimeUnit.SECONDS)) {
				this.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			}
		}
	}

}
