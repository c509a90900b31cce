package dev.grpckeepalive.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A TCP pass-through on loopback in front of the server that decodes the HTTP/2 frames of
 * every connection it carries and counts, per connection and per second, the frames the
 * abuse limits bound (docs/security.md), so that a cell of the matrix can say the highest
 * count a legitimate peer reached in any {@value #WINDOW_SECONDS} s window.
 *
 * <p>Its connections to the server leave from a loopback address of its own ({@code 127.0.0.N}),
 * so that the server's connection records (their remote address) tell which cell a connection
 * belongs to. Bytes are forwarded unchanged, as they were read: it decodes a copy, it does not
 * re-frame.
 */
final class FrameCountingProxy implements AutoCloseable {

	/** The abuse limits' window (grpc.keepalive.server.limits.flood-window's default). */
	static final int WINDOW_SECONDS = 10;

	/** Buckets per connection: one a second, longer than any matrix run. */
	private static final int SECONDS = 900;

	/** What is counted: the client's frames that a limit bounds, and the server's DATA they may answer. */
	/** The RST_STREAM error code of a stream the server did not process. */
	private static final long REFUSED_STREAM = 0x7;

	enum Metric {

		/** HEADERS from the client that open a new stream. */
		STREAMS("streams"),
		/** DATA frames from the client. */
		DATA_IN("DATA in"),
		/** WINDOW_UPDATE frames from the client. */
		WINDOW_UPDATE("WINDOW_UPDATE"),
		/** RST_STREAM frames from the client. */
		RST_STREAM("RST_STREAM"),
		/** SETTINGS frames from the client that are not ACKs. */
		SETTINGS("SETTINGS"),
		/** DATA frames from the client without payload nor END_STREAM. */
		EMPTY_DATA("empty DATA"),
		/** PING ACKs from the client for no PING the server sent. */
		UNSOLICITED_PING_ACK("unsolicited PING ACK"),
		/** PINGs the client originated. */
		PING_IN("PING in"),
		/** DATA frames from the server. */
		DATA_OUT("DATA out"),
		/** RST_STREAM frames from the server (such as REFUSED_STREAM over the concurrent-calls limit). */
		RST_OUT("RST_STREAM out"),
		/** RST_STREAM REFUSED_STREAM frames from the server: streams it did not process. */
		REFUSED_OUT("REFUSED_STREAM out"),
		/** RST_STREAM frames from the client on stream 0: a connection error (RFC 9113 6.4), Netty closes the connection. */
		RST_STREAM_ZERO("RST_STREAM on stream 0"),
		/** RST_STREAM frames from the client on a stream it never opened: a connection error too. */
		RST_STREAM_IDLE("RST_STREAM on a stream never opened");

		final String label;

		Metric(String label) {
			this.label = label;
		}

	}

	private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

	private final ServerSocket listener;

	private final InetAddress source;

	private final int upstreamPort;

	private final long startNanos = System.nanoTime();

	private final List<Connection> connections = new CopyOnWriteArrayList<>();

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	/**
	 * @param upstreamPort the server's port on loopback
	 * @param source the loopback address the proxy's connections to the server leave from
	 */
	FrameCountingProxy(int upstreamPort, InetAddress source) throws IOException {
		this.upstreamPort = upstreamPort;
		this.source = source;
		this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
		Thread acceptor = new Thread(this::acceptLoop, "counting-proxy-accept-" + this.listener.getLocalPort());
		acceptor.setDaemon(true);
		acceptor.start();
	}

	int port() {
		return this.listener.getLocalPort();
	}

	String target() {
		return "127.0.0.1:" + port();
	}

	/** The address the server sees this proxy's connections come from. */
	InetAddress source() {
		return this.source;
	}

	/** How many connections it carried. */
	int connectionCount() {
		return this.connections.size();
	}

	/** For each metric, the highest count of any one connection in any {@value #WINDOW_SECONDS} s window. */
	Map<Metric, Long> maxPerWindow() {
		Map<Metric, Long> max = new EnumMap<>(Metric.class);
		for (Metric metric : Metric.values()) {
			long highest = 0;
			for (Connection connection : this.connections) {
				highest = Math.max(highest, connection.maxPerWindow(metric));
			}
			max.put(metric, highest);
		}
		return max;
	}

	private void acceptLoop() {
		while (!this.listener.isClosed()) {
			try {
				Socket client = this.listener.accept();
				Socket upstream = new Socket();
				try {
					upstream.bind(new InetSocketAddress(this.source, 0));
					upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.upstreamPort), 5000);
				}
				catch (IOException ex) {
					client.close();
					upstream.close();
					continue;
				}
				client.setTcpNoDelay(true);
				upstream.setTcpNoDelay(true);
				this.sockets.add(client);
				this.sockets.add(upstream);
				Connection connection = new Connection();
				this.connections.add(connection);
				pump(client, upstream, new Decoder(connection, true));
				pump(upstream, client, new Decoder(connection, false));
			}
			catch (IOException ex) {
				// the listener closed
			}
		}
	}

	private void pump(Socket from, Socket to, Decoder decoder) {
		Thread thread = new Thread(() -> {
			byte[] buffer = new byte[65536];
			try (InputStream in = from.getInputStream()) {
				OutputStream out = to.getOutputStream();
				int read;
				while ((read = in.read(buffer)) != -1) {
					decoder.accept(buffer, read);
					out.write(buffer, 0, read);
				}
				to.shutdownOutput();
			}
			catch (IOException ex) {
				closeQuietly(to);
			}
			finally {
				this.sockets.remove(from);
			}
		}, "counting-proxy-pump");
		thread.setDaemon(true);
		thread.start();
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// already closed
		}
	}

	@Override
	public void close() throws IOException {
		this.listener.close();
		new ArrayList<>(this.sockets).forEach(FrameCountingProxy::closeQuietly);
	}

	/** The counts of one connection: one bucket a second per metric. */
	private final class Connection {

		private final AtomicLongArray[] counts = new AtomicLongArray[Metric.values().length];

		/** Payloads of the PINGs the server sent and the client has not acknowledged yet. */
		private final Set<Long> serverPings = ConcurrentHashMap.newKeySet();

		private int highestClientStream;

		Connection() {
			for (int i = 0; i < this.counts.length; i++) {
				this.counts[i] = new AtomicLongArray(SECONDS);
			}
		}

		void count(Metric metric) {
			int second = (int) Math.min(SECONDS - 1, (System.nanoTime() - FrameCountingProxy.this.startNanos) / 1_000_000_000L);
			this.counts[metric.ordinal()].incrementAndGet(second);
		}

		long maxPerWindow(Metric metric) {
			AtomicLongArray buckets = this.counts[metric.ordinal()];
			long sum = 0;
			long max = 0;
			for (int i = 0; i < SECONDS; i++) {
				sum += buckets.get(i);
				if (i >= WINDOW_SECONDS) {
					sum -= buckets.get(i - WINDOW_SECONDS);
				}
				max = Math.max(max, sum);
			}
			return max;
		}

	}

	/** Decodes one direction of one connection incrementally, without copying payloads (but a PING's). */
	private static final class Decoder {

		private final Connection connection;

		private final boolean fromClient;

		private int prefaceLeft;

		private final byte[] header = new byte[9];

		private int headerFill;

		private int payloadLeft;

		private int type;

		private int flags;

		private long pingPayload;

		private int pingBytes;

		Decoder(Connection connection, boolean fromClient) {
			this.connection = connection;
			this.fromClient = fromClient;
			this.prefaceLeft = fromClient ? PREFACE.length : 0;
		}

		void accept(byte[] bytes, int length) {
			int i = 0;
			while (i < length) {
				if (this.prefaceLeft > 0) {
					int skip = Math.min(this.prefaceLeft, length - i);
					this.prefaceLeft -= skip;
					i += skip;
				}
				else if (this.headerFill < 9) {
					this.header[this.headerFill++] = bytes[i++];
					if (this.headerFill == 9) {
						startFrame();
					}
				}
				else {
					int take = Math.min(this.payloadLeft, length - i);
					if (this.type == 6 || this.type == 3) {
						// a PING's payload, or a RST_STREAM's error code
						for (int j = 0; j < take; j++) {
							if (this.pingBytes < 8) {
								this.pingPayload = (this.pingPayload << 8) | (bytes[i + j] & 0xFF);
								this.pingBytes++;
							}
						}
					}
					i += take;
					this.payloadLeft -= take;
					if (this.payloadLeft == 0) {
						endFrame();
					}
				}
			}
		}

		private void startFrame() {
			int frameLength = ((this.header[0] & 0xFF) << 16) | ((this.header[1] & 0xFF) << 8) | (this.header[2] & 0xFF);
			this.type = this.header[3] & 0xFF;
			this.flags = this.header[4] & 0xFF;
			int stream = ((this.header[5] & 0x7F) << 24) | ((this.header[6] & 0xFF) << 16) | ((this.header[7] & 0xFF) << 8)
					| (this.header[8] & 0xFF);
			this.payloadLeft = frameLength;
			this.pingPayload = 0;
			this.pingBytes = 0;
			countStart(frameLength, stream);
			if (frameLength == 0) {
				endFrame();
			}
		}

		private void countStart(int frameLength, int stream) {
			Connection c = this.connection;
			if (!this.fromClient) {
				if (this.type == 0) {
					c.count(Metric.DATA_OUT);
				}
				else if (this.type == 3) {
					c.count(Metric.RST_OUT);
				}
				return;
			}
			switch (this.type) {
				case 0 -> {
					c.count(Metric.DATA_IN);
					if (frameLength == 0 && (this.flags & 0x1) == 0) {
						c.count(Metric.EMPTY_DATA);
					}
				}
				case 1 -> {
					if (stream > c.highestClientStream) {
						c.highestClientStream = stream;
						c.count(Metric.STREAMS);
					}
				}
				case 3 -> {
					c.count(Metric.RST_STREAM);
					if (stream == 0) {
						c.count(Metric.RST_STREAM_ZERO);
					}
					else if ((stream & 1) == 1 && stream > c.highestClientStream) {
						c.count(Metric.RST_STREAM_IDLE);
					}
				}
				case 4 -> {
					if ((this.flags & 0x1) == 0) {
						c.count(Metric.SETTINGS);
					}
				}
				case 8 -> c.count(Metric.WINDOW_UPDATE);
				default -> {
					// PINGs are counted once their payload is read; other types are not bounded
				}
			}
		}

		private void endFrame() {
			this.headerFill = 0;
			if (this.type == 3 && !this.fromClient && this.pingPayload == REFUSED_STREAM) {
				this.connection.count(Metric.REFUSED_OUT);
			}
			if (this.type != 6) {
				return;
			}
			boolean ack = (this.flags & 0x1) != 0;
			if (!this.fromClient) {
				if (!ack) {
					this.connection.serverPings.add(this.pingPayload);
				}
			}
			else if (!ack) {
				this.connection.count(Metric.PING_IN);
			}
			else if (!this.connection.serverPings.remove(this.pingPayload)) {
				this.connection.count(Metric.UNSOLICITED_PING_ACK);
			}
		}

	}

}
