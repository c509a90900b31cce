package dev.grpckeepalive.test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test oracle: decodes the HTTP/2 frames that cross a {@link SniffingTcpProxy}, keeps the
 * PING and GOAWAY frames and counts all of them by type, independently of the code under test.
 */
public final class Http2FrameLog {

	static final byte[] CLIENT_PREFACE = Http2Frames.PREFACE;

	static final int PING = Http2Frames.PING;

	static final int GOAWAY = Http2Frames.GOAWAY;

	/** grpc-java's client keepalive PING payload ({@code NettyClientHandler.USER_PING_PAYLOAD}). */
	public static final long CLIENT_KEEPALIVE_PAYLOAD = 1111;

	/** grpc-java's server keepalive PING payload ({@code NettyServerHandler.KEEPALIVE_PING}). */
	public static final long SERVER_KEEPALIVE_PAYLOAD = 0xDEAD;

	public enum Direction {

		/** Written by the client, read by the server. */
		CLIENT_TO_SERVER,

		/** Written by the server, read by the client. */
		SERVER_TO_CLIENT

	}

	/** A PING or GOAWAY frame. */
	public record Frame(int connection, Direction direction, int type, boolean ack, long pingPayload, long errorCode,
			String debugData, long nanoTime) {

		public boolean isPing() {
			return this.type == PING && !this.ack;
		}

		public boolean isPingAck() {
			return this.type == PING && this.ack;
		}

		public boolean isGoAway() {
			return this.type == GOAWAY;
		}

	}

	private final List<Frame> frames = new CopyOnWriteArrayList<>();

	private final Map<Direction, Map<String, AtomicLong>> counts = new ConcurrentHashMap<>();

	public List<Frame> frames() {
		return List.copyOf(this.frames);
	}

	/**
	 * How many frames of each type crossed in one direction, all connections together. Empty
	 * DATA frames without END_STREAM (which carry nothing at all) are counted apart, as
	 * {@value #EMPTY_DATA}.
	 */
	public Map<String, Long> counts(Direction direction) {
		Map<String, Long> snapshot = new TreeMap<>();
		this.counts.getOrDefault(direction, Map.of()).forEach((type, count) -> snapshot.put(type, count.get()));
		return snapshot;
	}

	/** The key of {@link #counts} for DATA frames without payload nor END_STREAM. */
	public static final String EMPTY_DATA = "DATA(empty)";

	public List<Frame> pings(Direction direction, long payload) {
		return this.frames.stream()
			.filter((frame) -> frame.isPing() && frame.direction() == direction && frame.pingPayload() == payload)
			.toList();
	}

	public List<Frame> pingAcks(Direction direction, long payload) {
		return this.frames.stream()
			.filter((frame) -> frame.isPingAck() && frame.direction() == direction && frame.pingPayload() == payload)
			.toList();
	}

	public List<Frame> goAways(Direction direction) {
		return this.frames.stream().filter((frame) -> frame.isGoAway() && frame.direction() == direction).toList();
	}

	Decoder decoder(int connection, Direction direction) {
		return new Decoder(connection, direction);
	}

	/** Decodes one direction of one connection, fed with the bytes as they arrive. */
	final class Decoder {

		private final int connection;

		private final Direction direction;

		private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

		private boolean prefaceSeen;

		Decoder(int connection, Direction direction) {
			this.connection = connection;
			this.direction = direction;
			this.prefaceSeen = direction == Direction.SERVER_TO_CLIENT;
		}

		void accept(byte[] bytes, int length) {
			this.pending.write(bytes, 0, length);
			ByteBuffer buffer = ByteBuffer.wrap(this.pending.toByteArray());
			if (!this.prefaceSeen) {
				if (buffer.remaining() < CLIENT_PREFACE.length) {
					return;
				}
				buffer.position(CLIENT_PREFACE.length);
				this.prefaceSeen = true;
			}
			while (buffer.remaining() >= 9) {
				int start = buffer.position();
				int frameLength = ((buffer.get() & 0xFF) << 16) | ((buffer.get() & 0xFF) << 8) | (buffer.get() & 0xFF);
				int type = buffer.get() & 0xFF;
				int flags = buffer.get() & 0xFF;
				buffer.getInt();
				if (buffer.remaining() < frameLength) {
					buffer.position(start);
					break;
				}
				byte[] payload = new byte[frameLength];
				buffer.get(payload);
				record(type, flags, payload);
			}
			byte[] rest = new byte[buffer.remaining()];
			buffer.get(rest);
			this.pending.reset();
			this.pending.write(rest, 0, rest.length);
		}

		private void record(int type, int flags, byte[] payload) {
			boolean emptyData = type == Http2Frames.DATA && payload.length == 0 && (flags & Http2Frames.FLAG_END_STREAM) == 0;
			Http2FrameLog.this.counts.computeIfAbsent(this.direction, (key) -> new ConcurrentHashMap<>())
				.computeIfAbsent(emptyData ? EMPTY_DATA : Http2Frames.typeName(type), (key) -> new AtomicLong())
				.incrementAndGet();
			long now = System.nanoTime();
			ByteBuffer data = ByteBuffer.wrap(payload);
			if (type == PING && payload.length == 8) {
				Http2FrameLog.this.frames
					.add(new Frame(this.connection, this.direction, type, (flags & 0x1) != 0, data.getLong(), 0, "", now));
			}
			else if (type == GOAWAY && payload.length >= 8) {
				data.getInt();
				long errorCode = data.getInt() & 0xFFFFFFFFL;
				String debug = new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
				Http2FrameLog.this.frames
					.add(new Frame(this.connection, this.direction, type, false, 0, errorCode, debug, now));
			}
		}

	}

}
