package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import org.jspecify.annotations.Nullable;

/**
 * Decodes the frame headers of one direction of an HTTP/2 connection as the bytes go by,
 * without copying them, changing their indexes or allocating per frame. Every frame header
 * is reported; only PING, GOAWAY and RST_STREAM payloads are read, every other payload is skipped by length.
 *
 * <p>The client-to-server direction starts with the 24-byte connection preface; both
 * directions must then start with a SETTINGS frame. Bytes that break these rules, frames
 * longer than the receiver's SETTINGS_MAX_FRAME_SIZE, or frames whose length cannot be
 * right for their type, make the decoder report {@link Listener#onMalformed} once and
 * ignore everything after.
 */
final class Http2FrameDecoder {

	/**
	 * Receives the frames this decoder cares about. Called on the connection's event loop.
	 * Each call names the decoder it comes from, so that one listener can take both
	 * directions of a connection (one object less per connection).
	 */
	interface Listener {

		void onPing(Http2FrameDecoder from, boolean ack, long payload);

		void onGoAway(Http2FrameDecoder from, long errorCode, String debugData);

		void onMalformed(Http2FrameDecoder from, String reason);

		/**
		 * Any frame's header, once read and checked, before its payload.
		 * @param from the decoder
		 * @param type the frame type
		 * @param flags the frame flags
		 * @param length the payload length
		 * @param streamId the stream identifier
		 */
		default void onFrame(Http2FrameDecoder from, int type, int flags, int length, int streamId) {
		}

		/**
		 * A RST_STREAM frame, once its error code arrived.
		 * @param from the decoder
		 * @param streamId the stream
		 * @param errorCode the error code
		 */
		default void onRstStream(Http2FrameDecoder from, int streamId, long errorCode) {
		}

	}

	static final int FRAME_HEADER_LENGTH = 9;

	static final int TYPE_DATA = 0x0;

	static final int TYPE_HEADERS = 0x1;

	static final int TYPE_RST_STREAM = 0x3;

	static final int TYPE_SETTINGS = 0x4;

	static final int TYPE_PING = 0x6;

	static final int TYPE_GOAWAY = 0x7;

	static final int TYPE_WINDOW_UPDATE = 0x8;

	static final int FLAG_ACK = 0x1;

	/** A frame type no HTTP/2 extension registers: receivers ignore it. */
	static final int TYPE_IGNORED = 0xFA;

	/** Where the type byte sits in a frame header. */
	private static final int TYPE_OFFSET = 3;

	/** GOAWAY debug data longer than this is cut: it only has to name a reason. */
	static final int MAX_DEBUG_DATA = 128;

	/** SETTINGS_MAX_FRAME_SIZE until the receiver advertises a larger one (RFC 9113, 6.5.2). */
	static final int DEFAULT_MAX_FRAME_SIZE = 16_384;

	private static final int SETTINGS_MAX_FRAME_SIZE = 0x5;

	private static final byte[] CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
		.getBytes(StandardCharsets.US_ASCII);

	private final Listener listener;

	/** Index of the next preface byte to match; equals the preface length once it matched. A byte: the preface has 24. */
	private byte prefaceIndex;

	private boolean firstFrame = true;

	private boolean malformed;

	/** Index of the next frame header byte, 0 to {@link #FRAME_HEADER_LENGTH}. */
	private byte headerIndex;

	private int length;

	private int type;

	private int flags;

	private int streamId;

	private int payloadIndex;

	/** The first 8 payload bytes of a PING or GOAWAY frame, the 4 of a RST_STREAM. */
	private long leadingPayload;

	/** Allocated by the first GOAWAY with debug data. */
	private byte @Nullable [] debugData;

	private int debugLength;

	/**
	 * Index, in the buffer being decoded, of the type byte of the frame being read, or -1 when
	 * it came in an earlier buffer. The buffer itself is the caller's: it passes it to
	 * {@link #ignoreCurrentFrame}.
	 */
	private int typeIndex = -1;

	/** The largest frame the receiver of these bytes accepts. */
	private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;

	/** The decoder of the opposite direction, whose frame limit this direction's SETTINGS set. */
	private @Nullable Http2FrameDecoder opposite;

	/** The SETTINGS entry being read: identifier in the high bits, value in the low 32. */
	private long setting;

	Http2FrameDecoder(Listener listener, boolean expectClientPreface) {
		this.listener = listener;
		this.prefaceIndex = (byte) (expectClientPreface ? 0 : CLIENT_PREFACE.length);
	}

	/** Links the two directions of a connection, so that each one's SETTINGS bound the other's frames. */
	static void pair(Http2FrameDecoder one, Http2FrameDecoder other) {
		one.opposite = other;
		other.opposite = one;
	}

	/** Ignores every byte from now on, as after malformed bytes, without reporting anything. */
	void stop() {
		this.malformed = true;
	}

	boolean isMalformed() {
		return this.malformed;
	}

	/** Whether the first frame, the SETTINGS that opens each direction, has arrived (after the client preface). */
	boolean isSettingsSeen() {
		return !this.firstFrame;
	}

	/** Decodes the readable bytes of {@code buffer}, leaving its indexes untouched. */
	void decode(ByteBuf buffer) {
		int index = buffer.readerIndex();
		int end = buffer.writerIndex();
		this.typeIndex = -1;
		while (index < end && !this.malformed) {
			if (this.prefaceIndex < CLIENT_PREFACE.length) {
				if (buffer.getByte(index++) != CLIENT_PREFACE[this.prefaceIndex++]) {
					malformed("the connection does not start with the HTTP/2 client preface");
				}
			}
			else if (this.headerIndex < FRAME_HEADER_LENGTH) {
				if (this.headerIndex == TYPE_OFFSET) {
					this.typeIndex = index;
				}
				readHeaderByte(buffer.getByte(index++) & 0xFF);
			}
			else {
				index = readPayload(buffer, index, end);
			}
		}
	}

	/**
	 * Turns the frame whose header {@link Listener#onFrame} is reporting into a frame of an
	 * unknown type, which every HTTP/2 receiver must ignore (RFC 9113, 4.1 and 5.5), by
	 * rewriting its type byte in place. Possible only while the type byte is in the buffer being
	 * decoded (a header split across reads is left as it is) and that buffer is writable.
	 * @param buffer the buffer {@link #decode} is decoding, whose frame {@link Listener#onFrame} reports
	 * @return whether the frame was rewritten
	 */
	boolean ignoreCurrentFrame(ByteBuf buffer) {
		if (this.typeIndex < 0 || buffer.isReadOnly()) {
			return false;
		}
		buffer.setByte(this.typeIndex, TYPE_IGNORED);
		return true;
	}

	private void readHeaderByte(int value) {
		switch (this.headerIndex++) {
			case 0, 1, 2 -> this.length = (this.length << 8) | value;
			case 3 -> this.type = value;
			case 4 -> this.flags = value;
			// the reserved bit is dropped with the mask
			default -> this.streamId = ((this.streamId << 8) | value) & 0x7FFFFFFF;
		}
		if (this.headerIndex == FRAME_HEADER_LENGTH) {
			frameHeaderComplete();
		}
	}

	private void frameHeaderComplete() {
		if (this.firstFrame && this.type != TYPE_SETTINGS) {
			malformed("the first frame is not SETTINGS but type " + this.type);
			return;
		}
		this.firstFrame = false;
		if (this.length > this.maxFrameSize) {
			malformed("frame of " + this.length + " bytes, above the receiver's maximum of " + this.maxFrameSize);
			return;
		}
		String invalid = invalidLength();
		if (invalid != null) {
			malformed(invalid);
			return;
		}
		this.payloadIndex = 0;
		this.leadingPayload = 0;
		this.debugLength = 0;
		this.listener.onFrame(this, this.type, this.flags, this.length, this.streamId);
		if (this.malformed) {
			return;
		}
		if (this.length == 0) {
			frameComplete();
		}
	}

	private @Nullable String invalidLength() {
		return switch (this.type) {
			case TYPE_PING -> (this.length != 8) ? "PING frame of " + this.length + " bytes" : null;
			case TYPE_GOAWAY -> (this.length < 8) ? "GOAWAY frame of " + this.length + " bytes" : null;
			case TYPE_SETTINGS -> (this.length % 6 != 0) ? "SETTINGS frame of " + this.length + " bytes" : null;
			case TYPE_WINDOW_UPDATE -> (this.length != 4) ? "WINDOW_UPDATE frame of " + this.length + " bytes" : null;
			case TYPE_RST_STREAM -> (this.length != 4) ? "RST_STREAM frame of " + this.length + " bytes" : null;
			default -> null;
		};
	}

	private int readPayload(ByteBuf buffer, int index, int end) {
		if (this.type == TYPE_SETTINGS && (this.flags & FLAG_ACK) == 0) {
			while (index < end && this.payloadIndex < this.length) {
				this.setting = (this.setting << 8) | (buffer.getByte(index++) & 0xFF);
				if (++this.payloadIndex % 6 == 0) {
					settingComplete((int) (this.setting >>> 32) & 0xFFFF, (int) this.setting);
					this.setting = 0;
				}
			}
		}
		else if (this.type == TYPE_PING || this.type == TYPE_GOAWAY || this.type == TYPE_RST_STREAM) {
			while (index < end && this.payloadIndex < this.length) {
				byte value = buffer.getByte(index++);
				if (this.payloadIndex < 8) {
					this.leadingPayload = (this.leadingPayload << 8) | (value & 0xFF);
				}
				else if (this.debugLength < MAX_DEBUG_DATA) {
					if (this.debugData == null) {
						this.debugData = new byte[MAX_DEBUG_DATA];
					}
					this.debugData[this.debugLength++] = value;
				}
				this.payloadIndex++;
			}
		}
		else {
			int skip = Math.min(end - index, this.length - this.payloadIndex);
			index += skip;
			this.payloadIndex += skip;
		}
		if (this.payloadIndex == this.length) {
			frameComplete();
		}
		return index;
	}

	private void settingComplete(int identifier, int value) {
		if (identifier == SETTINGS_MAX_FRAME_SIZE && this.opposite != null
				&& Integer.toUnsignedLong(value) > this.opposite.maxFrameSize) {
			// Only ever raised: a lower limit would bind the peer only once it acknowledged it.
			this.opposite.maxFrameSize = (int) Math.min(Integer.toUnsignedLong(value), (1 << 24) - 1);
		}
	}

	private void frameComplete() {
		if (this.type == TYPE_PING) {
			this.listener.onPing(this, (this.flags & FLAG_ACK) != 0, this.leadingPayload);
		}
		else if (this.type == TYPE_GOAWAY) {
			long errorCode = this.leadingPayload & 0xFFFFFFFFL;
			String debug = (this.debugLength == 0 || this.debugData == null) ? ""
					: new String(this.debugData, 0, this.debugLength, StandardCharsets.UTF_8);
			this.listener.onGoAway(this, errorCode, debug);
		}
		else if (this.type == TYPE_RST_STREAM) {
			this.listener.onRstStream(this, this.streamId, this.leadingPayload & 0xFFFFFFFFL);
		}
		this.headerIndex = 0;
		this.length = 0;
		this.streamId = 0;
	}

	private void malformed(String reason) {
		this.malformed = true;
		this.listener.onMalformed(this, reason);
	}

}
