package dev.grpckeepalive.transport;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.RawHttp2Attacker;
import dev.grpckeepalive.test.RawHttp2Attacker.Mode;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

/**
 * The measurements behind the defaults of {@code grpc.keepalive.server.limits.*}
 * (docs/security.md): each attack of {@link RawHttp2Attacker} against a starter server, with
 * a well-behaved grpc-java client making unary calls alongside. Prints, per attack, the CPU
 * the server's threads used, its heap after the attack, the gRPC log records it produced,
 * what the attacker got back, and the good client's latencies.
 *
 * <p>Not a test: it asserts nothing and loads the machine, so it runs only on demand:
 * <pre>
 * ./mvnw -B -pl autoconfigure test -Dtest=AttackMeasurements -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dattacks=RAPID_RESET,STREAM_FLOOD -Dattacks.seconds=5 \
 *     '-Dattacks.variants=|grpc.keepalive.server.limits.max-rst-frames=-1'
 * </pre>
 * {@code attacks}: modes, or {@code all}; {@code attacks.variants}: server configurations
 * separated by {@code |}, each a comma-separated property list (empty: the defaults; keys
 * may omit {@code grpc.keepalive.server.}); {@code attacks.reconnect}: whether the attacker
 * opens a new connection when the server closes one (default: only for CONTINUATION floods).
 */
@EnabledIfSystemProperty(named = "attacks", matches = ".+")
class AttackMeasurements {

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	/** Threads that do the server's work: its event loops and grpc-java's default application executor. */
	private static final List<String> SERVER_THREADS = List.of("grpc-keepalive-server", "grpc-default-executor");

	@Test
	void measure() throws Exception {
		String attacks = System.getProperty("attacks");
		List<Mode> modes = "all".equals(attacks) ? List.of(Mode.values())
				: Arrays.stream(attacks.split(",")).map(String::trim).map(Mode::valueOf).toList();
		Duration duration = Duration.ofSeconds(Long.getLong("attacks.seconds", 5));
		List<String> variants = List.of(System.getProperty("attacks.variants", "").split("\\|", -1));
		List<String> results = new ArrayList<>();
		for (String variant : variants) {
			for (Mode mode : modes) {
				String[] properties = variant.isBlank() ? new String[0] : variant.split(",");
				results.add(measure(mode, duration, properties));
			}
		}
		System.out.println("\n===== attack measurements, " + duration.toSeconds() + " s each =====");
		results.forEach(System.out::println);
	}

	private String measure(Mode mode, Duration duration, String[] properties) throws Exception {
		// the counter closes last: the server still logs while it drains what the attacker sent
		try (JulCounter logs = JulCounter.start();
				ConfigurableApplicationContext app = TestApps.server(properties)) {
			KeepAliveGrpcServer server = app.getBean(KeepAliveGrpcServer.class);
			ExecutorService clientExecutor = Executors.newFixedThreadPool(2);
			ManagedChannel good = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
				.usePlaintext()
				.executor(clientExecutor)
				.build();
			try {
				TestServiceGrpc.TestServiceBlockingStub stub = TestServiceGrpc.newBlockingStub(good);
				stub.echo(HELLO);
				long heapBefore = heapAfterGc();
				UnaryLoop loop = UnaryLoop.start(stub);
				long cpuBefore = serverCpuNanos();
				long start = System.nanoTime();
				RawHttp2Attacker.Builder attack = RawHttp2Attacker.attack(server.getPort(), mode).duration(duration);
				if (System.getProperty("attacks.reconnect") != null) {
					attack.reconnect(Boolean.getBoolean("attacks.reconnect"));
				}
				RawHttp2Attacker.Report report = attack.run();
				long wall = System.nanoTime() - start;
				long cpu = serverCpuNanos() - cpuBefore;
				int activeCalls = server.getConnections().activeCalls();
				int openConnections = server.getConnections().activeConnections();
				long heapAfter = heapAfterGc();
				List<Long> latencies = loop.stop();
				return String.format(
						"%s [%s]%n  attacker: %s%n  server: CPU %.0f%% of one core, heap after GC %d -> %d MiB,"
								+ " active calls %d, open connections %d at the end%n  grpc-java logs: %s%n"
								+ "  good client: %d calls, %d failed, p50 %.1f ms, p99 %.1f ms, max %.1f ms",
						mode, String.join(",", properties), report, 100.0 * cpu / wall, heapBefore >> 20,
						heapAfter >> 20, activeCalls, openConnections, logs.counts(), latencies.size(), loop.failures.get(),
						percentile(latencies, 0.5), percentile(latencies, 0.99), percentile(latencies, 1.0));
			}
			finally {
				good.shutdownNow();
				clientExecutor.shutdownNow();
			}
		}
	}

	private static long serverCpuNanos() {
		ThreadMXBean threads = ManagementFactory.getThreadMXBean();
		long total = 0;
		for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
			if (info != null && SERVER_THREADS.stream().anyMatch(info.getThreadName()::startsWith)) {
				long cpu = threads.getThreadCpuTime(info.getThreadId());
				total += Math.max(cpu, 0);
			}
		}
		return total;
	}

	private static long heapAfterGc() {
		MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
		System.gc();
		return memory.getHeapMemoryUsage().getUsed();
	}

	private static double percentile(List<Long> nanos, double fraction) {
		if (nanos.isEmpty()) {
			return Double.NaN;
		}
		List<Long> sorted = new ArrayList<>(nanos);
		sorted.sort(null);
		int index = (int) Math.min(sorted.size() - 1, Math.ceil(fraction * sorted.size()) - 1);
		return sorted.get(Math.max(index, 0)) / 1e6;
	}

	/** Unary calls one after the other on the good channel, each timed; bounded to 60 s. */
	private static final class UnaryLoop {

		private final List<Long> latencies = new ArrayList<>();

		private final AtomicLong failures = new AtomicLong();

		private volatile boolean stopped;

		private Thread thread;

		static UnaryLoop start(TestServiceGrpc.TestServiceBlockingStub stub) {
			UnaryLoop loop = new UnaryLoop();
			long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			loop.thread = new Thread(() -> {
				while (!loop.stopped && System.nanoTime() < end) {
					long start = System.nanoTime();
					try {
						stub.withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO);
						synchronized (loop.latencies) {
							loop.latencies.add(System.nanoTime() - start);
						}
					}
					catch (StatusRuntimeException ex) {
						loop.failures.incrementAndGet();
					}
					try {
						Thread.sleep(2);
					}
					catch (InterruptedException ex) {
						return;
					}
				}
			}, "good-client-loop");
			loop.thread.setDaemon(true);
			loop.thread.start();
			return loop;
		}

		List<Long> stop() throws InterruptedException {
			this.stopped = true;
			this.thread.join(10_000);
			synchronized (this.latencies) {
				return new ArrayList<>(this.latencies);
			}
		}

	}

	/**
	 * Counts what grpc-java and its Netty log (java.util.logging under {@code io.grpc}), by
	 * logger and level, and keeps it off the console while the attack runs: a flood of log
	 * lines into the test output would measure the console, not the server.
	 */
	static final class JulCounter extends Handler implements AutoCloseable {

		private final Logger logger = Logger.getLogger("io.grpc");

		private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

		private boolean useParentHandlers;

		static JulCounter start() {
			JulCounter counter = new JulCounter();
			counter.useParentHandlers = counter.logger.getUseParentHandlers();
			counter.logger.setUseParentHandlers(false);
			counter.logger.addHandler(counter);
			return counter;
		}

		@Override
		public void publish(LogRecord record) {
			if (record.getLevel().intValue() >= Level.INFO.intValue()) {
				this.counts
					.computeIfAbsent(record.getLoggerName() + " " + record.getLevel() + " '" + record.getMessage() + "'"
							+ ((record.getThrown() != null) ? " +" + record.getThrown().getClass().getSimpleName() : ""),
							(key) -> new AtomicLong())
					.incrementAndGet();
			}
		}

		Map<String, Long> counts() {
			Map<String, Long> snapshot = new TreeMap<>();
			this.counts.forEach((key, count) -> snapshot.put(key, count.get()));
			return snapshot;
		}

		@Override
		public void flush() {
		}

		@Override
		public void close() {
			this.logger.removeHandler(this);
			this.logger.setUseParentHandlers(this.useParentHandlers);
		}

	}

}
