package dev.grpckeepalive.interop;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.jayway.jsonpath.DocumentContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import dev.grpckeepalive.advisor.Evidence;
import dev.grpckeepalive.advisor.Finding;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.interop.FrameCountingProxy.Metric;
import dev.grpckeepalive.reliability.HaProxy;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.InteropPeer;
import dev.grpckeepalive.test.TestApps;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The legitimate-traffic matrix (issue 16, docs/interop.md): one server started from the
 * starter as a user would, with the sample's settings and the default abuse limits, and
 * every gRPC implementation and proxy the project knows of running the traffic patterns
 * of the peer command line against it at once, each cell on its own connections. A cell passes
 * when the server closed none of its connections as {@code abuse}, none of its calls failed
 * but for the statuses the pattern asked for, and, over the whole healthy matrix, the advisor
 * found nothing to report.
 *
 * <p>Every cell reaches the server through a {@link FrameCountingProxy} of its own, so that the
 * server's connection records tell the cells apart, and the table this writes to its output and
 * to {@code target/interop-matrix.md} has each cell's highest per-connection count, per
 * {@value FrameCountingProxy#WINDOW_SECONDS} s window, of the frames the abuse limits bound.
 *
 * <p>Cells run in waves (2 cores cannot carry them all at once); the idle clients and the clients
 * that come and go run through all of them. Its own surefire execution runs it, after the others:
 * <pre>
 * ./mvnw -B -o -pl autoconfigure test -Dtest=LegitimateTrafficMatrixTests -Dsurefire.failIfNoSpecifiedTests=false -Dgroups=matrix -DexcludedGroups=none
 * </pre>
 */
@Tag("matrix")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LegitimateTrafficMatrixTests {

	/** Each pattern runs two flood windows (10 s each) and a little more. */
	private static final Duration PATTERN = Duration.ofSeconds(Long.getLong("matrix.pattern.seconds", 22));

	/** Room between waves for the last calls of one to end before the next starts. */
	private static final Duration BETWEEN_WAVES = Duration.ofSeconds(2);

	/** The server of sample-service/src/main/resources/application.yml, on a free port, abuse limits as shipped. */
	private static final String[] SAMPLE_SERVER = { "grpc.keepalive.server.time=1m", "grpc.keepalive.server.timeout=20s",
			"grpc.keepalive.server.permit-time=20s", "grpc.keepalive.server.permit-without-calls=true",
			"grpc.keepalive.server.max-connection-idle=30m", "grpc.keepalive.server.max-connection-age=10m",
			"grpc.keepalive.server.max-connection-age-grace=30s", "grpc.keepalive.server.shutdown-grace=10s",
			"grpc.keepalive.server.handshake-timeout=20s", "grpc.keepalive.frames.enabled=true",
			"grpc.keepalive.actuator.show-peers=always", "grpc.keepalive.health.window=5m" };

	private ConfigurableApplicationContext server;

	private final List<Cell> cells = new ArrayList<>();

	private final Map<Cell, Outcome> outcomes = new ConcurrentHashMap<>();

	/** Every server connection that closed, by the address it came from (one per cell). */
	private final Map<InetAddress, List<ConnectionSnapshot>> closedBySource = new ConcurrentHashMap<>();

	private List<Finding> findings = List.of();

	@BeforeAll
	void runMatrix() throws Exception {
		// every peer is checked before any cell's time runs (the build prepared them: interop/prepare-peers)
		InteropPeer.requireNode();
		InteropPeer.requirePython();
		InteropPeer.requireGo();
		HaProxy.require("the matrix's HAProxy cell");
		Nginx.require("the matrix's nginx cell");
		H2Load.require("the matrix's h2load cell");
		this.server = TestApps.observed(SAMPLE_SERVER);
		tracker().addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
				if (connection.remote() instanceof InetSocketAddress remote) {
					LegitimateTrafficMatrixTests.this.closedBySource
						.computeIfAbsent(remote.getAddress(), (key) -> new CopyOnWriteArrayList<>())
						.add(connection);
				}
			}

		});
		defineCells();
		run();
		this.findings = this.server.getBean(KeepAliveAdvisor.class).findings();
		String table = table();
		System.out.println("\n===== legitimate-traffic matrix =====\n" + table);
		Files.createDirectories(Path.of("target"));
		Files.writeString(Path.of("target", "interop-matrix.md"), table, StandardCharsets.UTF_8);
	}

	@AfterAll
	void stopServer() {
		if (this.server != null) {
			this.server.close();
		}
	}

	private void defineCells() {
		for (JavaPeer.Transport transport : JavaPeer.Transport.values()) {
			String peer = "grpc-java " + transport.name().toLowerCase(java.util.Locale.ROOT);
			for (String[] pattern : STANDARD_PATTERNS) {
				cell(peer, pattern[0], Integer.parseInt(pattern[1]),
						(target, duration) -> JavaPeer.run(transport, target, pattern[0], duration, keys(pattern)));
			}
			cell(peer, "idle", 0, (target, duration) -> JavaPeer.run(transport, target, "idle", duration,
					Map.of("keepalive_ms", "20000", "without_calls", "1")));
		}
		// the sample's own channel: keepalive 30 s without calls, on a connection that has none
		cell("grpc-java netty", "idle (no call, 30 s)", 0, (target, duration) -> JavaPeer.run(JavaPeer.Transport.NETTY,
				target, "idle", duration, Map.of("keepalive_ms", "30000", "without_calls", "1", "withcall", "0")));
		// clients that come and go: a new channel every second, a few calls, an orderly shutdown
		cell("grpc-java netty", "churn", 0,
				(target, duration) -> JavaPeer.run(JavaPeer.Transport.NETTY, target, "churn", duration, Map.of()));
		for (Peer peer : Peer.values()) {
			for (String[] pattern : STANDARD_PATTERNS) {
				cell(peer.label, pattern[0], Integer.parseInt(pattern[1]),
						(target, duration) -> peer.run(target, pattern[0], duration, arguments(pattern)));
			}
			cell(peer.label, "idle", 0, (target, duration) -> peer.run(target, "idle", duration,
					List.of("keepalive_ms=20000", "without_calls=1")));
		}
		cell("h2load", "unary + unknown method", 4, (target, duration) -> H2Load.run(target, duration, 2, 100));
		cell("HAProxy (h2, http-reuse always)", "mixed, 21 clients", 4, (target, duration) -> {
			try (HaProxy proxy = HaProxy.http(Duration.ofMinutes(2), Duration.ofMinutes(2))
				.server("server", port(target))
				.start()) {
				return withLog(throughProxy("HAProxy", proxy.target(), duration), proxy.output());
			}
		});
		cell("nginx (grpc_pass, keepalive 32)", "mixed, 21 clients", 4, (target, duration) -> {
			try (Nginx nginx = Nginx.start(port(target))) {
				return withLog(throughProxy("nginx", nginx.target(), duration), nginx.errorLog());
			}
		});
	}

	/** Pattern, wave, and keys of the patterns every client peer runs. */
	private static final String[][] STANDARD_PATTERNS = { { "unary", "1" }, { "errors", "1" }, { "cancel", "1" },
			{ "download", "2" }, { "upload", "2" }, { "bidi", "3" }, { "concurrent", "3" } };

	private static Map<String, String> keys(String[] pattern) {
		Map<String, String> keys = new LinkedHashMap<>();
		for (int i = 2; i < pattern.length; i++) {
			String[] pair = pattern[i].split("=", 2);
			keys.put(pair[0], pair[1]);
		}
		return keys;
	}

	private static List<String> arguments(String[] pattern) {
		return List.of(pattern).subList(2, pattern.length);
	}

	/** At least 20 clients behind a proxy, sharing its upstream connections: calls, errors and cancellations mixed. */
	private CellResult throughProxy(String proxy, String target, Duration duration) throws Exception {
		ExecutorService clients = Executors.newFixedThreadPool(2);
		try {
			// the figures: 20 C-core clients, 800 calls/s OK, 40 NOT_FOUND/s, 100 cancelled streams/s
			Future<CellResult> many = clients.submit(() -> Peer.PYTHON.run(target, "mixed", duration,
					List.of("channels=20", "rate=1000", "concurrency=160")));
			Future<CellResult> one = clients
				.submit(() -> Peer.GO.run(target, "mixed", duration, List.of("rate=250", "concurrency=32")));
			return CellResult.merge("C-core x 20 + grpc-go via " + proxy,
					List.of(many.get(duration.toSeconds() + 60, TimeUnit.SECONDS),
							one.get(duration.toSeconds() + 60, TimeUnit.SECONDS)));
		}
		finally {
			clients.shutdownNow();
		}
	}

	/** A proxy's own log, with the failures where calls failed: it tells what the proxy saw. */
	private static CellResult withLog(CellResult result, String log) {
		if (result.failed().isEmpty() || log.isBlank()) {
			return result;
		}
		List<String> failures = new ArrayList<>(result.failures());
		failures.add("proxy log: " + log.lines().limit(20).collect(Collectors.joining("\n")));
		return new CellResult(result.peer(), result.ok(), result.expected(), result.failed(), failures, result.messages(),
				result.closed());
	}

	/** The peers that run as processes of their own and speak the peers' command line (docs/interop.md). */
	enum Peer {

		PYTHON("C-core (grpc-python)"), GO("grpc-go"), NODE("grpc-js");

		final String label;

		Peer(String label) {
			this.label = label;
		}

		CellResult run(String target, String pattern, Duration duration, List<String> keys) throws Exception {
			List<String> arguments = new ArrayList<>(List.of("client", target, pattern, Long.toString(duration.toMillis())));
			arguments.addAll(keys);
			String[] command = arguments.toArray(String[]::new);
			try (InteropPeer peer = switch (this) {
				case PYTHON -> InteropPeer.python(command);
				case GO -> InteropPeer.go(command);
				case NODE -> InteropPeer.node(command);
			}) {
				DocumentContext result = peer.result(duration.plusSeconds(60));
				return CellResult.fromJson(result);
			}
		}

	}

	private static int port(String target) {
		return Integer.parseInt(target.substring(target.lastIndexOf(':') + 1));
	}

	private void cell(String peer, String pattern, int wave, Runner runner) {
		Cell cell = new Cell(peer, pattern, wave, runner, this.cells.size());
		// -Dmatrix.cells=<regex> runs only the cells whose "peer x pattern" matches: for working on one
		if (cell.toString().matches(System.getProperty("matrix.cells", ".*"))) {
			this.cells.add(cell);
		}
	}

	/** Runs the waves one after the other, the cells of a wave at once, the all-along cells (wave 0) through all of them. */
	private void run() throws Exception {
		int waves = this.cells.stream().mapToInt(Cell::wave).max().orElse(0);
		Duration allAlong = PATTERN.plus(BETWEEN_WAVES).multipliedBy(waves).minus(BETWEEN_WAVES);
		ExecutorService executor = Executors.newCachedThreadPool();
		try {
			List<Future<?>> running = new ArrayList<>();
			for (Cell cell : this.cells) {
				if (cell.wave() == 0) {
					running.add(executor.submit(() -> runCell(cell, allAlong)));
				}
			}
			for (int wave = 1; wave <= waves; wave++) {
				List<Future<?>> inWave = new ArrayList<>();
				for (Cell cell : this.cells) {
					if (cell.wave() == wave) {
						inWave.add(executor.submit(() -> runCell(cell, PATTERN)));
					}
				}
				long waveStarted = System.nanoTime();
				for (Future<?> future : inWave) {
					future.get(PATTERN.toSeconds() + 120, TimeUnit.SECONDS);
				}
				System.out.printf("matrix: wave %d, %d cells, took %d s%n", wave, inWave.size(),
						(System.nanoTime() - waveStarted) / 1_000_000_000L);
				Thread.sleep(BETWEEN_WAVES.toMillis());
			}
			for (Future<?> future : running) {
				future.get(120, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
	}

	private void runCell(Cell cell, Duration duration) {
		InetAddress source = cell.source();
		long started = System.nanoTime();
		try (FrameCountingProxy proxy = new FrameCountingProxy(TestApps.port(this.server), source)) {
			CellResult result;
			try {
				result = cell.runner().run(proxy.target(), duration);
			}
			catch (Exception | AssertionError ex) {
				// a peer that cannot run, or printed no result: the cell fails and says why
				result = new CellResult(cell.peer(), 0, Map.of(), Map.of("ERROR", 1L), List.of(ex.toString()), 0, null);
			}
			// the pattern's own duration: the time to wind down after it is not a time of calls
			double seconds = Math.max(1, Math.min((System.nanoTime() - started) / 1e9, duration.toSeconds()));
			this.outcomes.put(cell, new Outcome(result, proxy.maxPerWindow(), proxy.connectionCount(), seconds));
		}
		catch (IOException ex) {
			this.outcomes.put(cell, new Outcome(
					new CellResult(cell.peer(), 0, Map.of(), Map.of("ERROR", 1L), List.of(ex.toString()), 0, null),
					Map.of(), 0, duration.toSeconds()));
		}
	}

	@TestFactory
	Stream<DynamicTest> everyCellPasses() {
		return this.cells.stream().map((cell) -> DynamicTest.dynamicTest(cell.toString(), () -> {
			Outcome outcome = this.outcomes.get(cell);
			assertThat(outcome).as("%s: no outcome", cell).isNotNull();
			assertThat(problems(cell, outcome)).as("%s", cell).isEmpty();
		}));
	}

	/** Why a cell fails, all reasons at once: what the server cut, what failed, and whether anything ran at all. */
	private List<String> problems(Cell cell, Outcome outcome) {
		List<String> problems = new ArrayList<>();
		List<ConnectionSnapshot> abuse = closed(cell).stream()
			.filter((connection) -> connection.closeReason() == CloseReason.ABUSE)
			.toList();
		if (!abuse.isEmpty()) {
			problems.add("the server closed " + abuse.size() + " of its connection(s) as abuse, by the limit(s) "
					+ abuse.stream().map(ConnectionSnapshot::abuseLimit).distinct().toList() + ": "
					+ abuse.stream().map(ConnectionSnapshot::id).limit(5).toList());
		}
		CellResult result = outcome.result();
		if (!result.failed().isEmpty() && !failedAtTheProxyAlone(cell, outcome)) {
			problems.add("calls failed (not the pattern's own statuses): " + result.failed() + "; first failures: "
					+ result.failures());
		}
		if (result.ok() + result.expectedTotal() == 0) {
			problems.add("the peer made no call at all: " + result);
		}
		return problems;
	}

	@Test
	void healthyFleetGetsNoAdvice() {
		List<Finding> aboutThePeers = this.findings.stream()
			.filter((finding) -> !starvedMachine(finding))
			.toList();
		assertThat(aboutThePeers)
			.as("the advisor's findings over a healthy fleet (every peer within its permit): %s",
					this.findings.stream().map(LegitimateTrafficMatrixTests::describe).toList())
			.isEmpty();
	}

	/**
	 * Whether a finding is about this machine, not the peers: a PING round trip of seconds on
	 * loopback is a peer process starved of CPU (seen: 11 and 13 s with both cores busy), and the
	 * advisor is right to say the keepalive timeout is close to it. What the matrix proves is that
	 * no legitimate peer's traffic is judged abusive or given a harmful setting.
	 */
	private static boolean starvedMachine(Finding finding) {
		return finding.evidence() instanceof Evidence.TimeoutCloseToRtt rtt && rtt.pingRttMillis().max() >= 1000;
	}

	private static String describe(Finding finding) {
		return finding.type() + " [" + finding.subject() + "]: " + finding.summary() + " -> "
				+ finding.recommendation() + " evidence " + finding.evidence();
	}

	/**
	 * Whether every failed call of a cell behind a proxy failed at the proxy itself, while the server refused
	 * none of the cell's streams and closed none of its connections itself: the client got RST_STREAM
	 * {@code REFUSED_STREAM} from the proxy (a stream not processed, which HTTP/2 lets a client retry), an HTTP
	 * error status the proxy answered in the server's place (a gRPC server never answers one), or its connection
	 * to the proxy broke. HAProxy 2.6 does each now and then when it closes or opens a backend connection under
	 * load, and has no {@code retry-on refused-stream} before 2.8. Any failure with the server involved (a
	 * refused stream, a connection the server closed, a status the server sent) still fails the cell.
	 */
	/** How a client reports a call that failed at the proxy: see {@link #failedAtTheProxyAlone}. */
	private static final List<String> PROXY_FAILURES = List.of("RST_STREAM with error code 7",
			"Received http2 header with status", "Broken pipe", "Connection reset");

	private boolean failedAtTheProxyAlone(Cell cell, Outcome outcome) {
		CellResult result = outcome.result();
		boolean onlyRefusals = result.failed().keySet().equals(java.util.Set.of("UNAVAILABLE"))
				&& result.failures().stream()
					.filter((failure) -> !failure.startsWith("proxy log: "))
					.allMatch((failure) -> PROXY_FAILURES.stream().anyMatch(failure::contains));
		boolean serverRefusedNone = outcome.maxPerWindow().getOrDefault(Metric.REFUSED_OUT, 0L) == 0;
		boolean serverClosedNone = closed(cell).stream()
			.allMatch((c) -> c.closeReason() == CloseReason.PEER_CLOSED || c.closeReason() == CloseReason.PEER_GOAWAY);
		return cell.peer().startsWith("HAProxy") && onlyRefusals && serverRefusedNone && serverClosedNone;
	}

	private List<ConnectionSnapshot> closed(Cell cell) {
		return this.closedBySource.getOrDefault(cell.source(), List.of());
	}

	private ConnectionTrackerView tracker() {
		return this.server.getBean(KeepAliveGrpcServer.class).getConnections();
	}

	/** The matrix as a Markdown table: one row per cell, with the highest per-connection counts per window. */
	private String table() {
		StringBuilder table = new StringBuilder();
		table.append("| peer | pattern | client | OK calls (per s) | messages | expected | failed | closed by the server | abuse closes |");
		for (Metric metric : Metric.values()) {
			table.append(' ').append(metric.label).append(" |");
		}
		table.append("\n|---|---|---|---:|---:|---|---|---|---:|");
		table.append("---:|".repeat(Metric.values().length)).append('\n');
		for (Cell cell : this.cells) {
			Outcome outcome = this.outcomes.get(cell);
			if (outcome == null) {
				continue;
			}
			CellResult result = outcome.result();
			Map<String, Long> closeReasons = new TreeMap<>(closed(cell).stream()
				.collect(Collectors.groupingBy((c) -> String.valueOf(c.closeReason()).toLowerCase(java.util.Locale.ROOT),
						Collectors.counting())));
			long abuse = closed(cell).stream().filter((c) -> c.closeReason() == CloseReason.ABUSE).count();
			table.append("| ").append(cell.peer()).append(" | ").append(cell.pattern()).append(" | ")
				.append(result.peer()).append(" | ")
				.append(String.format(java.util.Locale.ROOT, "%d (%.1f)", result.ok(), result.ok() / outcome.seconds()))
				.append(" | ").append(result.messages()).append(" | ")
				.append(counts(result.expected())).append(" | ").append(counts(result.failed()))
				.append(!result.failed().isEmpty() && failedAtTheProxyAlone(cell, outcome) ? " (failed at the proxy alone)" : "")
				.append(" | ")
				.append(counts(closeReasons)).append(" | ").append(abuse).append(" |");
			for (Metric metric : Metric.values()) {
				table.append(' ').append(outcome.maxPerWindow().getOrDefault(metric, 0L)).append(" |");
			}
			table.append('\n');
		}
		table.append("\nCounts per ").append(FrameCountingProxy.WINDOW_SECONDS)
			.append(" s window: the highest of any one connection of the cell, in any window (1 s steps).")
			.append(" Advisor findings: ").append(this.findings.size())
			.append(this.findings.isEmpty() ? "" : " " + this.findings.stream().map(LegitimateTrafficMatrixTests::describe).toList())
			.append('\n');
		return table.toString();
	}

	private static String counts(Map<String, Long> counts) {
		return counts.isEmpty() ? "-" : counts.entrySet().stream().map((e) -> e.getKey() + " " + e.getValue())
			.collect(Collectors.joining(", "));
	}

	/** Runs one cell's clients against {@code target} (the cell's counting proxy) for {@code duration}. */
	@FunctionalInterface
	interface Runner {

		CellResult run(String target, Duration duration) throws Exception;

	}

	/** One peer running one pattern; wave 0 runs through all the waves. */
	record Cell(String peer, String pattern, int wave, Runner runner, int index) {

		/** The loopback address the cell's connections reach the server from. */
		InetAddress source() {
			try {
				return InetAddress.getByAddress(new byte[] { 127, 0, (byte) (1 + this.index / 200), (byte) (10 + this.index % 200) });
			}
			catch (IOException ex) {
				throw new IllegalStateException(ex);
			}
		}

		@Override
		public String toString() {
			return this.peer + " x " + this.pattern;
		}

	}

	/** What one cell did: its clients' result, its frame counts, and for how long. */
	record Outcome(CellResult result, Map<Metric, Long> maxPerWindow, int connections, double seconds) {

	}

}
