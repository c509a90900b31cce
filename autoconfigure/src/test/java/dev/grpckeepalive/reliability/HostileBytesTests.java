package dev.grpckeepalive.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.jayway.jsonpath.DocumentContext;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.server.KeepAliveGrpcServer;
import dev.grpckeepalive.test.Http;
import dev.grpckeepalive.test.Http2Frames;
import dev.grpckeepalive.test.TestApps;
import dev.grpckeepalive.test.proto.EchoRequest;
import dev.grpckeepalive.test.proto.TestServiceGrpc;

import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reliability scenario 7, hostile bytes: raw sockets send the server garbage, a truncated
 * connection preface, a frame header with a huge length, a TLS ClientHello on the plaintext
 * port, or nothing at all. Every one of these connections must be closed by the server and
 * recorded with close reason {@code error}, while well-behaved clients keep getting prompt
 * answers, the frame observer throws nothing and logs one WARN per connection it gives up on.
 * {@code grpc.keepalive.server.handshake-timeout} makes the silent ones end in seconds
 * rather than grpc-java's default 120 s.
 */
@Tag("reliability")
class HostileBytesTests {

	private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(2);

	private static final EchoRequest HELLO = EchoRequest.newBuilder().setText("hello").build();

	/** Enough plain channels that one lands on every worker event loop of the server (two per core). */
	private static final int GOOD_CLIENTS = 2 * Runtime.getRuntime().availableProcessors();

	@Test
	void hostileConnectionsAreClosedAsErrorsWhileOthersAreServed() throws Exception {
		LogCapture logs = LogCapture.start();
		Map<String, byte[]> cases = new LinkedHashMap<>();
		cases.put("garbage", garbage());
		cases.put("truncated preface", Arrays.copyOf(Http2Frames.PREFACE, 10));
		cases.put("huge frame length", Http2Frames.concat(Http2Frames.PREFACE, Http2Frames.settings(),
				Http2Frames.header(0xFFFFFF, Http2Frames.DATA, Http2Frames.FLAG_END_STREAM, 1)));
		cases.put("TLS ClientHello", tlsClientHello());
		cases.put("never written", new byte[0]);
		List<ManagedChannel> channels = new ArrayList<>();
		try (ConfigurableApplicationContext app = TestApps.observed(
				"grpc.keepalive.server.handshake-timeout=" + HANDSHAKE_TIMEOUT.toMillis() + "ms",
				"grpc.keepalive.actuator.show-peers=always")) {
			int port = app.getBean(KeepAliveGrpcServer.class).getPort();
			ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
			for (int i = 0; i < GOOD_CLIENTS; i++) {
				ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
				channels.add(channel);
				TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS).echo(HELLO);
			}
			long hostileStart = System.nanoTime();
			List<Hostile> hostiles = new ArrayList<>();
			for (Map.Entry<String, byte[]> hostile : cases.entrySet()) {
				hostiles.add(Hostile.open(port, hostile.getKey(), hostile.getValue()));
			}

			// while the hostile connections are open, or being closed: every good client keeps being
			// served, and promptly, so no event loop is blocked
			List<Duration> latencies = new ArrayList<>();
			int failures = 0;
			while (System.nanoTime() - hostileStart < HANDSHAKE_TIMEOUT.toNanos() + Duration.ofSeconds(1).toNanos()) {
				for (ManagedChannel channel : channels) {
					long start = System.nanoTime();
					try {
						TestServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS).echo(HELLO);
						latencies.add(Duration.ofNanos(System.nanoTime() - start));
					}
					catch (StatusRuntimeException ex) {
						failures++;
					}
				}
				Thread.sleep(20);
			}
			assertThat(failures).isZero();
			latencies.sort(Duration::compareTo);
			Duration max = latencies.get(latencies.size() - 1);
			Duration median = latencies.get(latencies.size() / 2);
			// generous for a loaded two-core machine; a blocked event loop would show as seconds (the deadline)
			assertThat(max).isLessThan(Duration.ofSeconds(2));

			for (Hostile hostile : hostiles) {
				hostile.awaitClosedByServer(Duration.ofSeconds(10));
			}
			await().atMost(Duration.ofSeconds(5))
				.alias("records of the hostile connections closed: " + describe(server))
				.until(() -> hostiles.stream().allMatch((hostile) -> record(server, hostile) != null
						&& record(server, hostile).isClosed()));
			for (Hostile hostile : hostiles) {
				ConnectionSnapshot record = record(server, hostile);
				assertThat(record.closeReason()).as(hostile.name).isEqualTo(CloseReason.ERROR);
				// the observer's catch-all would say "observer failure": it never had to catch anything
				assertThat(String.valueOf(record.observerOffReason())).as(hostile.name).doesNotContain("observer failure");
				report(hostile.name + ": closed by the server after " + hostile.closedAfter().toMillis() + " ms ("
						+ hostile.howClosed + "), close reason " + record.closeReason().tag() + ", observer "
						+ ((record.observerOffReason() != null) ? "off: " + record.observerOffReason() : "on")
						+ ((record.lastGoAwaySent() != null) ? ", GOAWAY sent " + record.lastGoAwaySent().errorName() + " '"
								+ record.lastGoAwaySent().debugData() + "'" : ", no GOAWAY"));
			}
			assertThat(hostiles.get(0).closedAfter()).isLessThan(HANDSHAKE_TIMEOUT);
			assertThat(hostiles.get(4).closedAfter()).isGreaterThanOrEqualTo(HANDSHAKE_TIMEOUT.minusMillis(100))
				.isLessThan(HANDSHAKE_TIMEOUT.plusSeconds(5));

			DocumentContext summary = Http.json(app, "/actuator/grpckeepalive");
			assertThat(summary.read("$.server.connections.closed.error", Integer.class)).isEqualTo(cases.size());
			assertThat(summary.read("$.server.connections.active", Integer.class)).isEqualTo(GOOD_CLIENTS);
			List<Map<String, Object>> recent = summary.read("$.server.connections.recentlyClosed");
			for (Hostile hostile : hostiles) {
				assertThat(recent).as(hostile.name)
					.anySatisfy((closed) -> assertThat(closed).containsEntry("closeReason", "error")
						.containsEntry("remote", String.valueOf(hostile.localAddress())));
			}
			for (ManagedChannel channel : channels) {
				assertThat(TestServiceGrpc.newBlockingStub(channel).echo(HELLO).getText()).isEqualTo("hello");
			}

			List<String> problems = logs.problems(hostiles);
			assertThat(problems).as("WARN or ERROR beyond one observer-off WARN per non-HTTP/2 connection").isEmpty();
			for (Hostile hostile : hostiles) {
				long observerWarnings = logs.observerWarnings(hostile);
				assertThat(observerWarnings).as(hostile.name)
					.isEqualTo((record(server, hostile).observerOffReason() != null) ? 1 : 0);
			}
			report("good clients: " + GOOD_CLIENTS + " channels, " + latencies.size() + " unary calls, 0 failures, median "
					+ median.toMillis() + " ms, max " + max.toMillis() + " ms while the hostile connections were open");
		}
		finally {
			logs.stop();
			channels.forEach(ManagedChannel::shutdownNow);
		}
	}

	/**
	 * The counterpart: a TCP health check connects and closes without a byte. The client
	 * closed it, before any handshake: {@code peer_closed}, not an error.
	 */
	@Test
	void connectionTheClientClosesBeforeWritingIsPeerClosed() throws Exception {
		try (ConfigurableApplicationContext app = TestApps.observed(
				"grpc.keepalive.server.handshake-timeout=" + HANDSHAKE_TIMEOUT.toMillis() + "ms")) {
			ConnectionTrackerView server = app.getBean(KeepAliveGrpcServer.class).getConnections();
			try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), app.getBean(KeepAliveGrpcServer.class).getPort())) {
				await().atMost(Duration.ofSeconds(5)).until(() -> server.activeConnections() == 1);
			}
			await().atMost(Duration.ofSeconds(5)).until(() -> server.closedConnections(CloseReason.PEER_CLOSED) == 1);
			assertThat(server.closedConnections(CloseReason.ERROR)).isZero();
		}
	}

	private static ConnectionSnapshot record(ConnectionTrackerView server, Hostile hostile) {
		for (ConnectionSnapshot record : server.recentlyClosed()) {
			if (hostile.localAddress().equals(record.remote())) {
				return record;
			}
		}
		for (ConnectionSnapshot record : server.openConnections()) {
			if (hostile.localAddress().equals(record.remote())) {
				return record;
			}
		}
		return null;
	}

	private static String describe(ConnectionTrackerView server) {
		List<String> records = new ArrayList<>();
		server.recentlyClosed().forEach((record) -> records.add(record.id() + " " + record.remote() + " " + record.closeReason()));
		server.openConnections().forEach((record) -> records.add(record.id() + " " + record.remote() + " open"));
		return String.join(", ", records);
	}

	private static void report(String figures) {
		System.out.println("[scenario 7, hostile bytes] " + figures);
	}

	private static byte[] garbage() {
		byte[] bytes = new byte[256];
		new Random(7).nextBytes(bytes);
		bytes[0] = 'x';
		return bytes;
	}

	/** The start of a TLS 1.2 record with a ClientHello, as any TLS client sends first. */
	private static byte[] tlsClientHello() {
		byte[] header = { 0x16, 0x03, 0x01, 0x00, (byte) 0xC8, 0x01, 0x00, 0x00, (byte) 0xC4, 0x03, 0x03 };
		return Http2Frames.concat(header, new byte[32 + 1 + 2 + 2 + 1 + 1 + 150]);
	}

	/** One raw connection: writes its bytes, then only reads, on a thread of its own, until the server closes it. */
	static final class Hostile {

		private final String name;

		private final Socket socket;

		private final InetSocketAddress localAddress;

		private final long openedNanos;

		private final Thread reader;

		private volatile long closedNanos;

		private volatile String howClosed;

		private Hostile(String name, Socket socket, long openedNanos) {
			this.name = name;
			this.socket = socket;
			this.localAddress = (InetSocketAddress) socket.getLocalSocketAddress();
			this.openedNanos = openedNanos;
			this.reader = new Thread(this::readUntilClosed, "hostile-" + name);
			this.reader.setDaemon(true);
		}

		static Hostile open(int port, String name, byte[] bytes) throws IOException {
			Socket socket = new Socket();
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
			// bounds the reader even if the server never closes
			socket.setSoTimeout(20_000);
			Hostile hostile = new Hostile(name, socket, System.nanoTime());
			if (bytes.length > 0) {
				socket.getOutputStream().write(bytes);
				socket.getOutputStream().flush();
			}
			hostile.reader.start();
			return hostile;
		}

		InetSocketAddress localAddress() {
			return this.localAddress;
		}

		/** Reads (and drops) whatever the server answers until it closes the connection. */
		private void readUntilClosed() {
			int answered = 0;
			try (Socket socket = this.socket) {
				InputStream in = socket.getInputStream();
				byte[] buffer = new byte[4096];
				for (int read = in.read(buffer); read != -1; read = in.read(buffer)) {
					answered += read;
				}
				this.howClosed = "FIN after " + answered + " bytes";
				this.closedNanos = System.nanoTime();
			}
			catch (SocketTimeoutException ex) {
				this.howClosed = "still open";
			}
			catch (IOException ex) {
				this.howClosed = ex.getMessage() + " after " + answered + " bytes";
				this.closedNanos = System.nanoTime();
			}
		}

		void awaitClosedByServer(Duration timeout) throws InterruptedException {
			this.reader.join(timeout.toMillis());
			assertThat(this.closedNanos).as(this.name + ": closed by the server within " + timeout + " (" + this.howClosed
					+ ")").isNotZero();
		}

		Duration closedAfter() {
			return Duration.ofNanos(this.closedNanos - this.openedNanos);
		}

	}

	/**
	 * WARN and ERROR events of the starter (logback) and of grpc-java and its Netty (JUL, which
	 * they log to), collected while the scenario runs.
	 */
	static final class LogCapture {

		private final ListAppender<ILoggingEvent> starter = new ListAppender<>();

		private final List<LogRecord> grpc = new CopyOnWriteArrayList<>();

		private final Handler julHandler = new Handler() {

			@Override
			public void publish(LogRecord record) {
				if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
					LogCapture.this.grpc.add(record);
				}
			}

			@Override
			public void flush() {
			}

			@Override
			public void close() {
			}

		};

		static LogCapture start() {
			LogCapture capture = new LogCapture();
			capture.starter.start();
			starterLogger().addAppender(capture.starter);
			Logger.getLogger("io.grpc").addHandler(capture.julHandler);
			return capture;
		}

		private static ch.qos.logback.classic.Logger starterLogger() {
			return (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("dev.grpckeepalive");
		}

		void stop() {
			starterLogger().detachAppender(this.starter);
			Logger.getLogger("io.grpc").removeHandler(this.julHandler);
		}

		long observerWarnings(Hostile hostile) {
			return this.starter.list.stream()
				.filter((event) -> event.getLoggerName().endsWith("FrameObserver"))
				.filter((event) -> event.getFormattedMessage().contains(":" + hostile.localAddress().getPort() + ")"))
				.count();
		}

		/**
		 * Everything at WARN or above about the hostile connections, except the observer-off
		 * WARNs, and anything with an exception thrown from the frame observer. Other tests may
		 * run in the same JVM: events that name none of the hostile ports do not count.
		 */
		List<String> problems(List<Hostile> hostiles) {
			List<String> problems = new ArrayList<>();
			for (ILoggingEvent event : this.starter.list) {
				String message = event.getFormattedMessage();
				boolean observerOff = event.getLoggerName().endsWith("FrameObserver")
						&& message.startsWith("HTTP/2 frame observer off");
				boolean fromObserver = event.getThrowableProxy() != null
						&& ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(event.getThrowableProxy())
							.contains("dev.grpckeepalive.transport");
				if (event.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)
						&& ((namesOne(message, hostiles) && !observerOff) || fromObserver)) {
					problems.add(event.getLevel() + " " + event.getLoggerName() + ": " + message);
				}
			}
			for (LogRecord record : this.grpc) {
				String message = String.valueOf(record.getMessage());
				boolean fromObserver = record.getThrown() != null
						&& Arrays.stream(record.getThrown().getStackTrace())
							.anyMatch((frame) -> frame.getClassName().startsWith("dev.grpckeepalive.transport"));
				if (namesOne(message, hostiles) || fromObserver) {
					problems.add(record.getLevel() + " " + record.getLoggerName() + ": " + message);
				}
			}
			return problems;
		}

		private static boolean namesOne(String message, List<Hostile> hostiles) {
			return hostiles.stream()
				.anyMatch((hostile) -> message.matches("(?s).*:" + hostile.localAddress().getPort() + "\\b.*"));
		}
	}

}
