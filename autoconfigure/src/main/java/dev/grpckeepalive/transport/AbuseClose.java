package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.ConnectionRecord;

/**
 * Closes a server connection whose client broke one of the {@link FrameFloodLimits}: a GOAWAY
 * {@code ENHANCE_YOUR_CALM} naming the limit, written straight to the socket (grpc-java would
 * drain gracefully), then the close, which {@link #CLOSE_DELAY} later is forced, abortively,
 * if the client does not read. Recorded as close reason {@code abuse}, logged condensed by
 * {@link AbuseLog}. The caller makes sure it happens once per connection. No state: nothing
 * per connection.
 */
final class AbuseClose {

	/** How long a client closed for abuse gets to read its GOAWAY before the connection is reset. */
	static final Duration CLOSE_DELAY = Duration.ofSeconds(1);

	static final long ENHANCE_YOUR_CALM = 0xb;

	private AbuseClose() {
	}

	/**
	 * Closes the connection of {@code ctx} for breaking {@code limit}; on its event loop.
	 * @param ctx the observer's context: the GOAWAY goes to the handlers before it only
	 * @param record the connection's record, or {@code null} before it has one
	 * @param limit the limit's name, the GOAWAY's debug data
	 * @param lastStreamId the highest stream the client opened, the GOAWAY's last stream
	 */
	static void close(ChannelHandlerContext ctx, @Nullable ConnectionRecord record, String limit, int lastStreamId) {
		if (record != null) {
			record.abused(limit);
			record.goAwaySent(ENHANCE_YOUR_CALM, limit, false);
		}
		Channel channel = ctx.channel();
		AbuseLog.closed(limit, (record != null) ? record.displayId() : "?", channel.remoteAddress());
		ctx.writeAndFlush(goAway(ctx, limit, lastStreamId))
			.addListener((future) -> channel.unsafe().close(channel.voidPromise()));
		ctx.executor().schedule(() -> {
			if (channel.isOpen()) {
				channel.config().setOption(ChannelOption.SO_LINGER, 0);
				channel.unsafe().close(channel.voidPromise());
			}
		}, CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
	}

	/** A GOAWAY frame: the last stream, ENHANCE_YOUR_CALM, the limit as debug data. */
	private static ByteBuf goAway(ChannelHandlerContext ctx, String limit, int lastStreamId) {
		byte[] debug = limit.getBytes(StandardCharsets.US_ASCII);
		ByteBuf frame = ctx.alloc().buffer(Http2FrameDecoder.FRAME_HEADER_LENGTH + 8 + debug.length);
		frame.writeMedium(8 + debug.length);
		frame.writeByte(Http2FrameDecoder.TYPE_GOAWAY);
		frame.writeByte(0);
		frame.writeInt(0);
		frame.writeInt(lastStreamId);
		frame.writeInt((int) ENHANCE_YOUR_CALM);
		frame.writeBytes(debug);
		return frame;
	}

}
