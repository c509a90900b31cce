package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelOutboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;

import static org.assertj.core.api.Assertions.assertThat;

/** The close of a client over a flood limit, on an EmbeddedChannel whose time moves only when told. */
class AbuseCloseTests {

	private final ConnectionTracker tracker = new ConnectionTracker(Side.SERVER, "server", null, null, () -> 0L,
			Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), ConnectionTracker.DEFAULT_HISTORY_SIZE);

	@Test
	void goAwayEnhanceYourCalmNamingTheLimitAndTheLastStreamThenTheClose() {
		ChannelHandlerContext[] context = new ChannelHandlerContext[1];
		EmbeddedChannel channel = frozenChannel(context);
		ConnectionRecord record = this.tracker.connectionOpened(null, null);

		AbuseClose.close(context[0], record, FrameFloodGuard.SETTINGS_FRAMES, 41);

		ByteBuf goAway = channel.readOutbound();
		assertThat(goAway.getMedium(0)).isEqualTo(8 + FrameFloodGuard.SETTINGS_FRAMES.length());
		assertThat(goAway.getByte(3)).isEqualTo((byte) Http2FrameDecoder.TYPE_GOAWAY);
		assertThat(goAway.getInt(5)).as("stream 0").isZero();
		assertThat(goAway.getInt(9)).as("last stream").isEqualTo(41);
		assertThat(goAway.getInt(13)).as("ENHANCE_YOUR_CALM").isEqualTo(0xb);
		assertThat(goAway.toString(17, goAway.readableBytes() - 17, StandardCharsets.US_ASCII))
			.isEqualTo(FrameFloodGuard.SETTINGS_FRAMES);
		goAway.release();
		channel.runPendingTasks();
		assertThat(channel.isOpen()).as("closed once the GOAWAY is written").isFalse();
		record.close();
		ConnectionSnapshot closed = this.tracker.view().find(record.displayId()).orElseThrow();
		assertThat(closed.closeReason()).isEqualTo(CloseReason.ABUSE);
		assertThat(closed.abuseLimit()).isEqualTo(FrameFloodGuard.SETTINGS_FRAMES);
		assertThat(closed.lastGoAwaySent().reason()).isEqualTo(CloseReason.ABUSE);
	}

	@Test
	void aClientThatDoesNotReadIsResetTheDelayLater() {
		ChannelHandlerContext[] context = new ChannelHandlerContext[1];
		EmbeddedChannel channel = frozenChannel(context);
		// the GOAWAY's write never completes: the client does not read
		channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {

			@Override
			public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
				ReferenceCountUtil.release(msg);
			}

		});

		AbuseClose.close(context[0], null, FrameFloodGuard.PREMATURE_RESETS, 1);

		channel.runPendingTasks();
		assertThat(channel.isOpen()).isTrue();
		channel.advanceTimeBy(AbuseClose.CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();
		assertThat(channel.isOpen()).isFalse();
	}

	/** A channel whose time moves only when told, and its one handler's context in {@code context[0]}. */
	private static EmbeddedChannel frozenChannel(ChannelHandlerContext[] context) {
		EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {

			@Override
			public void handlerAdded(ChannelHandlerContext ctx) {
				context[0] = ctx;
			}

		});
		channel.freezeTime();
		return channel;
	}

}
