package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;

/** HTTP/2 bytes built by hand (RFC 9113, section 4.1 and 6), for the decoder and observer tests. */
final class Http2Frames {

	static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

	static final int DATA = 0x0;

	static final int HEADERS = 0x1;

	static final int PRIORITY = 0x2;

	static final int SETTINGS = 0x4;

	static final int PING = 0x6;

	static final int GOAWAY = 0x7;

	static final int CONTINUATION = 0x9;

	private Http2Frames() {
	}

	static void frame(ByteBuf bytes, int type, int flags, byte[] payload) {
		frame(bytes, type, flags, 0, payload);
	}

	static void frame(ByteBuf bytes, int type, int flags, int streamId, byte[] payload) {
		bytes.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(streamId).writeBytes(payload);
	}

	static void ping(ByteBuf bytes, boolean ack, long payload) {
		frame(bytes, PING, ack ? 1 : 0, bytes(Unpooled.buffer(8).writeLong(payload)));
	}

	static void goAway(ByteBuf bytes, int errorCode, String debug) {
		ByteBuf payload = Unpooled.buffer();
		payload.writeInt(7).writeInt(errorCode).writeBytes(debug.getBytes(StandardCharsets.UTF_8));
		frame(bytes, GOAWAY, 0, bytes(payload));
	}

	static byte[] bytes(ByteBuf buffer) {
		byte[] data = new byte[buffer.readableBytes()];
		buffer.readBytes(data);
		return data;
	}

}
