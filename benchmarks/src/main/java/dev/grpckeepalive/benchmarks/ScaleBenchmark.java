package dev.grpckeepalive.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import dev.grpckeepalive.actuate.GrpcKeepAliveEndpoint;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.PeerVisibility;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Many idle connections with keepalive PINGs flowing against one server, (a) plain grpc-java
 * and (b) the starter: heap per connection attributable to the starter ((b) minus (a)), the
 * endpoint's summary and pages of its connection list, and whether any PING timed out.
 *
 * <p>The clients are raw HTTP/2 connections ({@link IdleClients}) in separate JVMs of at most
 * {@value #PER_CLIENT_JVM} connections each, bound to loopback source addresses
 * {@code 127.0.0.2} onwards (10k per address), so that neither ephemeral ports nor one
 * process's open files run out. The server's JVM, this one, must be allowed as many open
 * files as connections: HotSpot raises its soft limit to the hard limit at start, so the hard
 * limit of the shell that starts Maven decides ({@code ulimit -Hn}; raising it needs root or
 * the container's {@code --ulimit nofile=...}). A size the limit does not allow is reported
 * as skipped, with the limit, and not measured.
 *
 * <p>Apart from the sockets, the endpoint's list and summary are also measured over a tracker
 * filled with that many connection records (no sockets): what the list's pages cost at a size
 * the machine cannot connect.
 */
final class ScaleBenchmark {

	/** Two client PINGs per connection: clients ping every 10 s without calls. */
	private static final long IDLE_MILLIS = 25_000;

	private static final int PER_CLIENT_JVM = 15_000;

	/** Open files this JVM needs besides the connections: class path, event loops, pipes to the clients. */
	private static final int FILES_RESERVED = 800;

	private static final JsonMapper json = JsonMapper.builder().build();

	private ScaleBenchmark() {
	}

	private record Run(long heapDelta, @Nullable Endpoint endpoint, long pingsReceived, long serverTimeouts,
			ClientStats clients, int openConnections) {
	}

	/** Median milliseconds of the endpoint's operations, JSON included. */
	private record Endpoint(double summary, double firstPage, double middlePage, double page1000,
			double filterMatchingNone) {
	}

	private record ClientStats(long sent, long acked, long timeouts, long closed, long goaways) {

		ClientStats plus(ClientStats other) {
			return new ClientStats(this.sent + other.sent, this.acked + other.acked, this.timeouts + other.timeouts,
					this.closed + other.closed, this.goaways + other.goaways);
		}

	}

	static String runAndReport(List<Integer> sizes) throws Exception {
		long files = openFileLimit();
		StringBuilder table = new StringBuilder("### Scale: idle connections with keepalive PINGs\n\n");
		table.append("Raw HTTP/2 clients in separate JVMs (at most ").append(PER_CLIENT_JVM)
			.append(" connections each, source addresses 127.0.0.2 onwards) ping every 10 s without calls ")
			.append("(server permits 5 s); measured after 25 s idle. Server JVM heap after full GC; the starter's share ")
			.append("is (b) minus (a). Endpoint: the operation plus JSON serialization, median of 20 calls after 20 ")
			.append("unmeasured; pages of ")
			.append("100 from the oldest and after the middle connection, a page of 1000, and a filter no connection ")
			.append("matches (remote=10.), which walks every connection. This JVM may open ").append(files)
			.append(" files.\n\n");
		table.append("| connections | heap growth (a) MiB | heap growth (b) MiB | starter bytes/connection | summary ms | "
				+ "page of 100 ms (first, middle) | page of 1000 ms | filter matching none ms | PINGs acked (a), (b) | "
				+ "PING timeouts (a), (b) | connections closed (a), (b) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
		List<String> skipped = new ArrayList<>();
		for (int size : sizes) {
			if (size + FILES_RESERVED > files) {
				skipped.add(String.format(Locale.ROOT, "%d connections need about %d open files in the server's JVM; "
						+ "it may open %d (hard limit)", size, size + FILES_RESERVED, files));
				continue;
			}
			Run plain = run(Variant.PLAIN, size);
			Run starter = run(Variant.STARTER, size);
			Endpoint endpoint = starter.endpoint;
			System.out.printf(Locale.ROOT, "scale %d: plain %d bytes, starter %d bytes, %s%n", size, plain.heapDelta,
					starter.heapDelta, endpoint);
			table.append(String.format(Locale.ROOT,
					"| %d | %.1f | %.1f | %.0f | %.2f | %.2f, %.2f | %.1f | %.1f | %d, %d | %d, %d | %d, %d |%n", size,
					plain.heapDelta / 1048576.0, starter.heapDelta / 1048576.0,
					(starter.heapDelta - plain.heapDelta) / (double) size, endpoint.summary, endpoint.firstPage,
					endpoint.middlePage, endpoint.page1000, endpoint.filterMatchingNone, plain.clients.acked,
					starter.clients.acked, plain.clients.timeouts, starter.clients.timeouts + starter.serverTimeouts,
					plain.clients.closed, starter.clients.closed));
		}
		for (String line : skipped) {
			table.append("\nSkipped: ").append(line).append('.');
		}
		table.append("\n\n").append(registryOnly(sizes));
		return table.append('\n').toString();
	}

	private static Run run(Variant variant, int size) throws Exception {
		Server plainServer = null;
		ConfigurableApplicationContext context = null;
		int port;
		if (variant == Variant.PLAIN) {
			plainServer = NettyServerBuilder.forPort(0)
				.addService(new BenchServiceImpl())
				.keepAliveTime(1, TimeUnit.MINUTES)
				.permitKeepAliveTime(5, TimeUnit.SECONDS)
				.permitKeepAliveWithoutCalls(true)
				.build()
				.start();
			port = plainServer.getPort();
		}
		else {
			context = starterServer(size);
			port = context.getBean(KeepAliveGrpcServer.class).getPort();
		}
		long before = usedHeapAfterGc();
		List<Process> clients = new ArrayList<>();
		try {
			for (int first = 0; first < size; first += PER_CLIENT_JVM) {
				clients.add(startClients(port, Math.min(PER_CLIENT_JVM, size - first), first));
			}
			for (Process process : clients) {
				awaitLine(process, "ready");
			}
			Thread.sleep(IDLE_MILLIS);
			long after = usedHeapAfterGc();
			ClientStats stats = new ClientStats(0, 0, 0, 0, 0);
			for (Process process : clients) {
				stats = stats.plus(stats(process));
			}
			if (context == null) {
				return new Run(after - before, null, 0, 0, stats, size);
			}
			KeepAliveGrpcServer server = context.getBean(KeepAliveGrpcServer.class);
			ConnectionTrackerView tracker = server.getConnections();
			return new Run(after - before, endpoint(server), tracker.pings().received(), tracker.pings().timeouts(),
					stats, tracker.activeConnections());
		}
		finally {
			for (Process process : clients) {
				process.getOutputStream().close();
			}
			for (Process process : clients) {
				process.waitFor(60, TimeUnit.SECONDS);
				process.destroyForcibly();
			}
			if (plainServer != null) {
				plainServer.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
			}
			if (context != null) {
				context.close();
			}
		}
	}

	private static ConfigurableApplicationContext starterServer(int maxConnections) {
		return new SpringApplicationBuilder(Deployment.StarterServerApp.class).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties("grpc.keepalive.server.port=0", "grpc.keepalive.server.time=1m",
					"grpc.keepalive.server.permit-time=5s", "grpc.keepalive.server.permit-without-calls=true",
					"grpc.keepalive.server.limits.max-connections=" + Math.max(10_000, maxConnections + 1))
			.run();
	}

	/** The endpoint's operations on this server's connections, as {@code GET}s with these query parameters. */
	private static Endpoint endpoint(ObservedGrpcServer server) {
		GrpcKeepAliveEndpoint endpoint = new GrpcKeepAliveEndpoint(server, List.of(), PeerVisibility.ALWAYS);
		long opened = server.getConnections().openedConnections();
		String middle = "s-" + Math.max(1, opened / 2);
		return new Endpoint(medianMillis(() -> json.writeValueAsBytes(endpoint.summary(SecurityContext.NONE))),
				page(endpoint, "100", null, null, 100), page(endpoint, "100", middle, null, 100),
				page(endpoint, "1000", null, null, 1000), page(endpoint, "100", null, "10.", 0));
	}

	private static double page(GrpcKeepAliveEndpoint endpoint, String limit, @Nullable String after,
			@Nullable String remote, int expected) {
		Object page = endpoint.connections("connections", SecurityContext.NONE, limit, after, null, remote, null, null,
				null);
		boolean asked = page instanceof List<?> list
				&& ((expected == 0) ? list.isEmpty() : !list.isEmpty() && list.size() <= expected);
		if (!asked) {
			throw new IllegalStateException("Not the page asked for: " + page);
		}
		return medianMillis(() -> json.writeValueAsBytes(endpoint.connections("connections", SecurityContext.NONE,
				limit, after, null, remote, null, null, null)));
	}

	/**
	 * The list and summary over a tracker filled with connection records, no sockets, at each
	 * size; the summary reports the real server's settings.
	 */
	private static String registryOnly(List<Integer> sizes) throws Exception {
		StringBuilder table = new StringBuilder("#### The list's pages over N connection records (no sockets)\n\n");
		table.append("A server's tracker filled with N open connection records, as the frame observer and the ")
			.append("transport filter open them (remote addresses 127.0.0.2 onwards), the endpoint over it. Heap: the ")
			.append("tracker's part of a connection (record, PING figures, calls list, address pair and the two ")
			.append("indexes), after full GC; the frame observer's part is not in it.\n\n");
		table.append("| records | tracker bytes/record | summary ms | page of 100 ms (first, middle) | page of 1000 ms | "
				+ "filter matching none ms |\n|---|---|---|---|---|---|\n");
		try (ConfigurableApplicationContext context = starterServer(0)) {
			KeepAliveGrpcServer real = context.getBean(KeepAliveGrpcServer.class);
			for (int size : sizes) {
				long before = usedHeapAfterGc();
				ConnectionTracker tracker = ConnectionTracker.create(Side.SERVER, "server", null, null);
				InetSocketAddress local = new InetSocketAddress("127.0.0.1", real.getPort());
				for (int i = 0; i < size; i++) {
					tracker.connectionOpened(new InetSocketAddress(
							"127.0.0." + (IdleClients.FIRST_SOURCE_ADDRESS + i / IdleClients.PER_SOURCE_ADDRESS),
							1024 + i % IdleClients.PER_SOURCE_ADDRESS), local);
				}
				long after = usedHeapAfterGc();
				Endpoint endpoint = endpoint(new FilledServer(real, tracker.view()));
				System.out.printf(Locale.ROOT, "registry %d: %d bytes per record, %s%n", size, (after - before) / size,
						endpoint);
				table.append(String.format(Locale.ROOT, "| %d | %d | %.2f | %.2f, %.2f | %.1f | %.1f |%n", size,
						(after - before) / size, endpoint.summary, endpoint.firstPage, endpoint.middlePage,
						endpoint.page1000, endpoint.filterMatchingNone));
				// the tracker's records stay reachable until measured
				tracker.view().activeConnections();
			}
		}
		return table.toString();
	}

	/** The real server's settings and port, and a tracker filled with records. */
	private record FilledServer(KeepAliveGrpcServer real, ConnectionTrackerView connections)
			implements ObservedGrpcServer {

		@Override
		public int getPort() {
			return this.real.getPort();
		}

		@Override
		public boolean isRunning() {
			return this.real.isRunning();
		}

		@Override
		public ServerKeepAliveSettings getSettings() {
			return this.real.getSettings();
		}

		@Override
		public ConnectionTrackerView getConnections() {
			return this.connections;
		}

	}

	private static Process startClients(int port, int count, int first) throws IOException {
		return new ProcessBuilder(javaExecutable(), "-Xmx1g", "-cp", System.getProperty("java.class.path"),
				IdleClients.class.getName(), String.valueOf(port), String.valueOf(count), String.valueOf(first))
			.redirectError(ProcessBuilder.Redirect.INHERIT)
			.start();
	}

	private static String awaitLine(Process process, String prefix) throws IOException {
		BufferedReader out = process.inputReader(StandardCharsets.UTF_8);
		String line;
		while ((line = out.readLine()) != null) {
			if (line.startsWith(prefix)) {
				return line;
			}
			if (line.startsWith("failed")) {
				throw new IllegalStateException("idle clients: " + line);
			}
		}
		throw new IllegalStateException("idle clients ended before '" + prefix + "'");
	}

	private static ClientStats stats(Process process) throws IOException {
		OutputStream in = process.getOutputStream();
		in.write("stats\n".getBytes(StandardCharsets.UTF_8));
		in.flush();
		String[] fields = awaitLine(process, "stats").split(" ");
		return new ClientStats(Long.parseLong(fields[1]), Long.parseLong(fields[2]), Long.parseLong(fields[3]),
				Long.parseLong(fields[4]), Long.parseLong(fields[5]));
	}

	/** The open-file limit of this JVM (HotSpot raised its soft limit to the hard one at start). */
	static long openFileLimit() throws IOException {
		for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
			if (line.startsWith("Max open files")) {
				String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
				return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
			}
		}
		return Long.MAX_VALUE;
	}

	private static String javaExecutable() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	/** The median of 20 timed runs, after 20 untimed ones so that the JIT has compiled what they run. */
	private static double medianMillis(Runnable operation) {
		for (int i = 0; i < 20; i++) {
			operation.run();
		}
		double[] samples = new double[20];
		for (int i = 0; i < samples.length; i++) {
			long start = System.nanoTime();
			operation.run();
			samples[i] = (System.nanoTime() - start) / 1e6;
		}
		return LoadHarness.median(samples);
	}

	static long usedHeapAfterGc() throws InterruptedException {
		Runtime runtime = Runtime.getRuntime();
		long used = Long.MAX_VALUE;
		for (int i = 0; i < 5; i++) {
			System.gc();
			Thread.sleep(200);
			used = Math.min(used, runtime.totalMemory() - runtime.freeMemory());
		}
		return used;
	}

}
