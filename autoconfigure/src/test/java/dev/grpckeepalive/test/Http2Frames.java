package dev.grpckeepalive.test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * HTTP/2 frames built by hand (RFC 9113), for tests that must send what no HTTP/2 library
 * would: floods, malformed frames, frames that ignore the peer's settings. Independent of
 * Netty and grpc-java, so it can also serve as an oracle for them.
 */
public final class Http2Frames {

	/** The client connection preface. */
	public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

	public static final int HEADER_LENGTH = 9;

	public static final int DATA = 0x0;

	public static final int HEADERS = 0x1;

	public static final int RST_STREAM = 0x3;

	public static final int SETTINGS = 0x4;

	public static final int PING = 0x6;

	public static final int GOAWAY = 0x7;

	public static final int WINDOW_UPDATE = 0x8;

	public static final int CONTINUATION = 0x9;

	public static final int FLAG_END_STREAM = 0x1;

	public static final int FLAG_ACK = 0x1;

	public static final int FLAG_END_HEADERS = 0x4;

	public static final int SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;

	public static final long NO_ERROR = 0x0;

	public static final long PROTOCOL_ERROR = 0x1;

	public static final long REFUSED_STREAM = 0x7;

	public static final long CANCEL = 0x8;

	public static final long ENHANCE_YOUR_CALM = 0xB;

	private static final String[] TYPE_NAMES = { "DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS",
			"PUSH_PROMISE", "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION" };

	private static final String[] ERROR_NAMES = { "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
			"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
			"CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED" };

	private Http2Frames() {
	}

	/** A frame header alone; {@code length} is not checked against anything, so it can lie. */
	public static byte[] header(int length, int type, int flags, int streamId) {
		return new byte[] { (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
				(byte) ((streamId >>> 24) & 0x7F), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId };
	}

	/** A whole frame. */
	public static byte[] frame(int type, int flags, int streamId, byte[] payload) {
		return concat(header(payload.length, type, flags, streamId), payload);
	}

	/** SETTINGS with the given identifier/value pairs; none gives the empty SETTINGS a client may open with. */
	public static byte[] settings(int... idsAndValues) {
		ByteBuffer payload = ByteBuffer.allocate(idsAndValues.length / 2 * 6);
		for (int i = 0; i + 1 < idsAndValues.length; i += 2) {
			payload.putShort((short) idsAndValues[i]).putInt(idsAndValues[i + 1]);
		}
		return frame(SETTINGS, 0, 0, payload.array());
	}

	public static byte[] settingsAck() {
		return frame(SETTINGS, FLAG_ACK, 0, new byte[0]);
	}

	public static byte[] ping(long payload, boolean ack) {
		return frame(PING, ack ? FLAG_ACK : 0, 0, ByteBuffer.allocate(8).putLong(payload).array());
	}

	public static byte[] headers(int streamId, byte[] headerBlock, boolean endStream, boolean endHeaders) {
		return frame(HEADERS, (endStream ? FLAG_END_STREAM : 0) | (endHeaders ? FLAG_END_HEADERS : 0), streamId,
				headerBlock);
	}

	public static byte[] continuation(int streamId, byte[] headerBlockFragment, boolean endHeaders) {
		return frame(CONTINUATION, endHeaders ? FLAG_END_HEADERS : 0, streamId, headerBlockFragment);
	}

	public static byte[] data(int streamId, byte[] payload, boolean endStream) {
		return frame(DATA, endStream ? FLAG_END_STREAM : 0, streamId, payload);
	}

	public static byte[] rstStream(int streamId, long errorCode) {
		return frame(RST_STREAM, 0, streamId, ByteBuffer.allocate(4).putInt((int) errorCode).array());
	}

	public static byte[] windowUpdate(int streamId, int increment) {
		return frame(WINDOW_UPDATE, 0, streamId, ByteBuffer.allocate(4).putInt(increment & 0x7FFFFFFF).array());
	}

	/**
	 * The HPACK block of a gRPC request to {@code path}: every field a literal without
	 * indexing and without Huffman coding, so that each block stands alone and the same
	 * bytes can open any number of streams (no dynamic table state).
	 */
	public static byte[] grpcRequestHeaders(String path, String authority) {
		ByteArrayOutputStream block = new ByteArrayOutputStream();
		// static table: 3 = :method POST, 6 = :scheme http
		block.write(0x83);
		block.write(0x86);
		literalWithIndexedName(block, 4, path); // :path
		literalWithIndexedName(block, 1, authority); // :authority
		literalWithIndexedName(block, 31, "application/grpc"); // content-type
		literalWithNewName(block, "te", "trailers");
		return block.toByteArray();
	}

	/** A gRPC message frame's payload: not compressed, {@code message} as its body. */
	public static byte[] grpcMessage(byte[] message) {
		return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
	}

	private static void literalWithIndexedName(ByteArrayOutputStream block, int nameIndex, String value) {
		// literal header field without indexing (0000xxxx), 4-bit prefix for the name index
		integer(block, 0x00, 4, nameIndex);
		string(block, value);
	}

	private static void literalWithNewName(ByteArrayOutputStream block, String name, String value) {
		block.write(0x00);
		string(block, name);
		string(block, value);
	}

	private static void string(ByteArrayOutputStream block, String value) {
		byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
		integer(block, 0x00, 7, bytes.length); // H bit 0: not Huffman-coded
		block.writeBytes(bytes);
	}

	/** HPACK integer representation (RFC 7541, 5.1). */
	private static void integer(ByteArrayOutputStream block, int firstByteBits, int prefixBits, int value) {
		int max = (1 << prefixBits) - 1;
		if (value < max) {
			block.write(firstByteBits | value);
			return;
		}
		block.write(firstByteBits | max);
		int rest = value - max;
		while (rest >= 0x80) {
			block.write((rest & 0x7F) | 0x80);
			rest >>>= 7;
		}
		block.write(rest);
	}

	public static byte[] concat(byte[]... parts) {
		int length = 0;
		for (byte[] part : parts) {
			length += part.length;
		}
		byte[] all = new byte[length];
		int position = 0;
		for (byte[] part : parts) {
			System.arraycopy(part, 0, all, position, part.length);
			position += part.length;
		}
		return all;
	}

	/** Reads one frame, blocking; throws {@link java.io.EOFException} when the stream ends. */
	public static Frame read(DataInputStream in) throws IOException {
		byte[] header = new byte[HEADER_LENGTH];
		in.readFully(header);
		int length = ((header[0] & 0xFF) << 16) | ((header[1] & 0xFF) << 8) | (header[2] & 0xFF);
		int streamId = ByteBuffer.wrap(header, 5, 4).getInt() & 0x7FFFFFFF;
		byte[] payload = new byte[length];
		in.readFully(payload);
		return new Frame(header[3] & 0xFF, header[4] & 0xFF, streamId, payload);
	}

	public static String typeName(int type) {
		return (type >= 0 && type < TYPE_NAMES.length) ? TYPE_NAMES[type] : "0x" + Integer.toHexString(type);
	}

	public static String errorName(long code) {
		return (code >= 0 && code < ERROR_NAMES.length) ? ERROR_NAMES[(int) code] : "0x" + Long.toHexString(code);
	}

	/** A frame as read from the wire. */
	public record Frame(int type, int flags, int streamId, byte[] payload) {

		public boolean hasFlag(int flag) {
			return (this.flags & flag) != 0;
		}

		/** The error code of a RST_STREAM or GOAWAY frame. */
		public long errorCode() {
			int offset = (this.type == GOAWAY) ? 4 : 0;
			return ByteBuffer.wrap(this.payload, offset, 4).getInt() & 0xFFFFFFFFL;
		}

		/** The debug data of a GOAWAY frame. */
		public String debugData() {
			return new String(this.payload, 8, this.payload.length - 8, StandardCharsets.UTF_8);
		}

		/** The value of a setting in a SETTINGS frame, or {@code -1} when absent. */
		public long setting(int id) {
			ByteBuffer settings = ByteBuffer.wrap(this.payload);
			long value = -1;
			while (settings.remaining() >= 6) {
				int candidate = settings.getShort() & 0xFFFF;
				long candidateValue = settings.getInt() & 0xFFFFFFFFL;
				if (candidate == id) {
					value = candidateValue;
				}
			}
			return value;
		}

		@Override
		public String toString() {
			return typeName(this.type) + "(stream " + this.streamId + ", flags 0x" + Integer.toHexString(this.flags)
					+ ", " + this.payload.length + " bytes)";
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof Frame frame && frame.type == this.type && frame.flags == this.flags
					&& frame.streamId == this.streamId && Arrays.equals(frame.payload, this.payload);
		}

		@Override
		public int hashCode() {
			return 31 * (31 * (31 * this.type + this.flags) + this.streamId) + Arrays.hashCode(this.payload);
		}

	}

}
