package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import static dev.grpckeepalive.transport.Http2Frames.PREFACE;
import static dev.grpckeepalive.transport.Http2Frames.bytes;
import static dev.grpckeepalive.transport.Http2Frames.frame;
import static dev.grpckeepalive.transport.Http2Frames.goAway;
import static dev.grpckeepalive.transport.Http2Frames.ping;
import static org.assertj.core.api.Assertions.assertThat;

/** The decoder on byte sequences built by hand, delivered whole and one byte at a time. */
class Http2FrameDecoderTests {

	private static final long PING_ACK_PAYLOAD = 0xDEAD;

	private final List<String> events = new ArrayList<>();

	private final Http2FrameDecoder.Listener listener = new Http2FrameDecoder.Listener() {

		@Override
		public void onPing(Http2FrameDecoder from, boolean ack, long payload) {
			Http2FrameDecoderTests.this.events.add((ack ? "ack " : "ping ") + payload);
		}

		@Override
		public void onGoAway(Http2FrameDecoder from, long errorCode, String debugData) {
			Http2FrameDecoderTests.this.events.add("goaway " + errorCode + " " + debugData);
		}

		@Override
		public void onMalformed(Http2FrameDecoder from, String reason) {
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

	@Test
	void skipsPaddedDataAndPaddedPrioritizedHeadersSplitAtEveryByte() {
		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[0]);
		// HEADERS with PADDED, PRIORITY and END_HEADERS: pad length, dependency, weight, block, padding.
		// The padding is filled with PING-like bytes: only the frame length may decide where the next frame starts.
		ByteBuf headers = Unpooled.buffer();
		headers.writeByte(9).writeInt(0x80000003).writeByte(15).writeBytes(new byte[] { (byte) 0x82, (byte) 0x86 });
		pingLike(headers, 9);
		frame(bytes, 0x1, 0x8 | 0x20 | 0x4, 1, bytes(headers));
		// DATA with PADDED and END_STREAM: pad length, data, padding
		ByteBuf data = Unpooled.buffer();
		data.writeByte(20).writeBytes(new byte[30]);
		pingLike(data, 20);
		frame(bytes, 0x0, 0x8 | 0x1, 1, bytes(data));
		ping(bytes, false, 42);

		decodeSplitAtEveryByte(new Http2FrameDecoder(this.listener, true), bytes);

		assertThat(this.events).containsExactly("ping 42");
	}

	@Test
	void skipsHeadersContinuedInContinuationFramesSplitAtEveryByte() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		// HEADERS without END_HEADERS, then two CONTINUATIONs, the last with END_HEADERS
		frame(bytes, 0x1, 0, 3, new byte[40]);
		frame(bytes, 0x9, 0, 3, new byte[17]);
		frame(bytes, 0x9, 0x4, 3, pingLikeBytes(8));
		ping(bytes, true, PING_ACK_PAYLOAD);

		decodeSplitAtEveryByte(new Http2FrameDecoder(this.listener, false), bytes);

		assertThat(this.events).containsExactly("ack " + PING_ACK_PAYLOAD);
	}

	@Test
	void skipsPriorityFramesSplitAtEveryByte() {
		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x2, 0, 5, new byte[] { (byte) 0x80, 0, 0, 1, (byte) 255 });
		ping(bytes, false, 5);
		frame(bytes, 0x2, 0, 7, new byte[] { 0, 0, 0, 0, 0 });
		goAway(bytes, 0, "");

		decodeSplitAtEveryByte(new Http2FrameDecoder(this.listener, true), bytes);

		assertThat(this.events).containsExactly("ping 5", "goaway 0 ");
	}

	@Test
	void acceptsFramesOfExactlyTheMaximumAndReportsOneByteMore() {
		ByteBuf bytes = Unpooled.buffer();
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x0, 0, new byte[Http2FrameDecoder.DEFAULT_MAX_FRAME_SIZE]);
		ping(bytes, false, 1);
		frame(bytes, 0x0, 0, new byte[Http2FrameDecoder.DEFAULT_MAX_FRAME_SIZE + 1]);

		decodeSplitAtEveryByte(new Http2FrameDecoder(this.listener, false), bytes);

		assertThat(this.events).containsExactly("ping 1", "malformed frame of 16385 bytes, above the receiver's maximum of 16384");
	}

	@Test
	void maxFrameSizeSettingSplitAcrossReadsRaisesTheMaximum() {
		Http2FrameDecoder inbound = new Http2FrameDecoder(this.listener, true);
		Http2FrameDecoder outbound = new Http2FrameDecoder(this.listener, false);
		Http2FrameDecoder.pair(inbound, outbound);
		// the receiver's SETTINGS: HEADER_TABLE_SIZE, MAX_FRAME_SIZE 1 MiB, INITIAL_WINDOW_SIZE; the
		// MAX_FRAME_SIZE entry straddles the reads
		ByteBuf settings = Unpooled.buffer();
		frame(settings, 0x4, 0, new byte[] { 0, 0x1, 0, 0, 0x10, 0, 0, 0x5, 0, 0x10, 0, 0, 0, 0x4, 0, 0x01, 0, 0 });
		decodeSplitAtEveryByte(outbound, settings);

		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[0]);
		frame(bytes, 0x0, 0, new byte[1 << 20]);
		ping(bytes, false, 9);
		frame(bytes, 0x0, 0, new byte[(1 << 20) + 1]);
		inbound.decode(bytes.readSlice(100));
		inbound.decode(bytes.readSlice(70_000));
		inbound.decode(bytes);

		assertThat(this.events).containsExactly("ping 9",
				"malformed frame of 1048577 bytes, above the receiver's maximum of 1048576");
	}

	@Test
	void settingsOfOneDirectionDoNotRaiseItsOwnMaximum() {
		Http2FrameDecoder inbound = new Http2FrameDecoder(this.listener, true);
		Http2FrameDecoder outbound = new Http2FrameDecoder(this.listener, false);
		Http2FrameDecoder.pair(inbound, outbound);
		// the peer's own SETTINGS raise what this side may send, not what the peer may send
		ByteBuf bytes = Unpooled.buffer();
		bytes.writeBytes(PREFACE);
		frame(bytes, 0x4, 0, new byte[] { 0, 0x5, 0, 0x10, 0, 0 });
		frame(bytes, 0x0, 0, new byte[65_536]);

		decodeSplitAtEveryByte(inbound, bytes);

		assertThat(this.events).containsExactly("malformed frame of 65536 bytes, above the receiver's maximum of 16384");
	}

	private static void decodeSplitAtEveryByte(Http2FrameDecoder decoder, ByteBuf bytes) {
		while (bytes.isReadable()) {
			ByteBuf slice = bytes.readSlice(1);
			decoder.decode(slice);
			assertThat(slice.readerIndex()).isZero();
		}
	}

	/** Bytes that would decode as a PING frame header if the decoder mistook them for one. */
	private static void pingLike(ByteBuf bytes, int length) {
		bytes.writeBytes(pingLikeBytes(length));
	}

	private static byte[] pingLikeBytes(int length) {
		ByteBuf fake = Unpooled.buffer();
		while (fake.readableBytes() < length) {
			fake.writeMedium(8).writeByte(0x6).writeByte(0).writeInt(0);
		}
		return java.util.Arrays.copyOf(bytes(fake), length);
	}

}
