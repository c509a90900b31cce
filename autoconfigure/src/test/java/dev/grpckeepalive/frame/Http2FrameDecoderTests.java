package dev.grpckeepalive.frame;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The decoder on byte sequences built by hand, delivered whole and one byte at a time. */
class Http2FrameDecoderTests {

	private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

	private final List<String> events = new ArrayList<>();

	private final Http2FrameDecoder.Listener listener = new Http2FrameDecoder.Listener() {

		@Override
		public void onPing(boolean ack, long payload) {
			Http2FrameDecoderTests.this.events.add((ack ? "ack " : "ping ") + payload);
		}

		@Override
		public void onGoAway(long errorCode, String debugData) {
			Http2FrameDecoderTests.this.events.add("goaway " + errorCode + " " + debugData);
		}

		@Override
		public void onMalformed(String reason) {
			Http2FrameDecoderTests.this.events.add("malformed " + reason);
		}

	};

	@Test
	void decodesPingsAndGoAwayAfterPrefaceAndSettings() {
		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[6]);
		frame(bytes, 0x0, 0, new byte[100]);
		ping(bytes, false, 1111);
		ping(bytes, true, 0xDEAD);
		goAway(bytes, 11, "too_many_pings");

		Http2FrameDecoder decoder = new Http2FrameDecoder(this.listener, true);
		decoder.decode(bytes);

		assertThat(this.events).containsExactly("ping 1111", "ack 57005", "goaway 11 too_many_pings");
		assertThat(bytes.readerIndex()).isZero();
	}

	@Test
	void decodesFramesSplitAtEveryByte() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[12]);
		ping(bytes, false, 1234);
		goAway(bytes, 0, "max_age");
		Http2FrameDecoder decoder = new Http2FrameDecoder(this.listener, false);

		while (bytes.isReadable()) {
			decoder.decode(bytes.readSlice(1));
		}

		assertThat(this.events).containsExactly("ping 1234", "goaway 0 max_age");
	}

	@Test
	void reportsMissingPrefaceOnceAndIgnoresTheRest() {
		ByteBuf bytes = Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII);
		Http2FrameDecoder decoder = new Http2FrameDecoder(this.listener, true);

		decoder.decode(bytes);
		decoder.decode(Unpooled.copiedBuffer(PREFACE));

		assertThat(this.events).containsExactly("malformed the connection does not start with the HTTP/2 client preface");
		assertThat(decoder.isMalformed()).isTrue();
	}

	@Test
	void reportsTlsClientHello() {
		ByteBuf hello = Unpooled.wrappedBuffer(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc });
		new Http2FrameDecoder(this.listener, true).decode(hello);
		assertThat(this.events).singleElement().asString().startsWith("malformed");
	}

	@Test
	void reportsFirstFrameThatIsNotSettings() {
		ByteBuf bytes = Unpooled.buffer();
		ping(bytes, false, 1);
		new Http2FrameDecoder(this.listener, false).decode(bytes);
		assertThat(this.events).containsExactly("malformed the first frame is not SETTINGS but type 6");
	}

	@Test
	void reportsPingOfWrongLength() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x6, 0, new byte[7]);
		new Http2FrameDecoder(this.listener, false).decode(bytes);
		assertThat(this.events).containsExactly("malformed PING frame of 7 bytes");
	}

	@Test
	void skipsLargeFramesWithoutReadingThem() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x0, 0, new byte[16_384]);
		ping(bytes, false, 7);
		Http2FrameDecoder decoder = new Http2FrameDecoder(this.listener, false);
		decoder.decode(bytes);
		assertThat(this.events).containsExactly("ping 7");
	}

	@Test
	void reportsFrameAboveTheReceiversMaximum() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		bytes.writeMedium(0xFFFFFF).writeByte(0x0).writeByte(0).writeInt(1);
		new Http2FrameDecoder(this.listener, false).decode(bytes);
		assertThat(this.events).containsExactly("malformed frame of 16777215 bytes, above the receiver's maximum of 16384");
	}

	@Test
	void receiversSettingsRaiseTheMaximum() {
		Http2FrameDecoder inbound = new Http2FrameDecoder(this.listener, true);
		Http2FrameDecoder outbound = new Http2FrameDecoder(this.listener, false);
		Http2FrameDecoder.pair(inbound, outbound);
		ByteBuf settings = Unpooled.buffer();
		frame(settings, 0x4, 0, new byte[] { 0, 0x5, 0, 0x01, 0, 0 });
		outbound.decode(settings);

		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x0, 0, new byte[65_536]);
		ping(bytes, false, 9);
		inbound.decode(bytes);

		assertThat(this.events).containsExactly("ping 9");
	}

	@Test
	void cutsLongDebugData() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		goAway(bytes, 1, "x".repeat(1000));
		new Http2FrameDecoder(this.listener, false).decode(bytes);
		assertThat(this.events).containsExactly("goaway 1 " + "x".repeat(Http2FrameDecoder.MAX_DEBUG_DATA));
	}

	private static void ping(ByteBuf bytes, boolean ack, long payload) {
		byte[] data = Unpooled.buffer(8).writeLong(payload).array();
		frame(bytes, 0x6, ack ? 1 : 0, java.util.Arrays.copyOf(data, 8));
	}

	private static void goAway(ByteBuf bytes, int errorCode, String debug) {
		ByteBuf payload = Unpooled.buffer();
		payload.writeInt(7).writeInt(errorCode).writeBytes(debug.getBytes(StandardCharsets.UTF_8));
		byte[] data = new byte[payload.readableBytes()];
		payload.readBytes(data);
		frame(bytes, 0x7, 0, data);
	}

	private static void frame(ByteBuf bytes, int type, int flags, byte[] payload) {
		bytes.writeMedium(payload.length).writeByte(type).writeByte(flags).writeInt(0).writeBytes(payload);
	}

}
