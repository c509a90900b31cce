package dev.grpckeepalive.transport;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.SilenceBeforeClose;

import static dev.grpckeepalive.transport.Http2Frames.HEADERS;
import static dev.grpckeepalive.transport.Http2Frames.PREFACE;
import static dev.grpckeepalive.transport.Http2Frames.SETTINGS;
import static dev.grpckeepalive.transport.Http2Frames.frame;
import static dev.grpckeepalive.transport.Http2Frames.ping;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The silences the frame observer measures for the advisor's idle-path findings, on a fake
 * ticker: a silence (no frame either way) of a second or more that ends with the peer's
 * frames survived; the one a connection closes in, or the one before this side's last write
 * when the connection dies right after it (a reset) or its keepalive PING times out, killed.
 */
class FrameObserverSilenceTests {

	private static final Duration TIMEOUT = Duration.ofSeconds(1);

	private final AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(3));

	private final List<long[]> survived = new ArrayList<>();

	private final List<EmbeddedChannel> channels = new ArrayList<>();

	@AfterEach
	void release() {
		this.channels.forEach(EmbeddedChannel::finishAndReleaseAll);
	}

	@Test
	void aSilenceEndedByThePeersFrameSurvived() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofMillis(5_300));
		channel.writeInbound(frames((bytes) -> ping(bytes, false, 42)));

		assertThat(this.survived).singleElement().satisfies((silence) -> assertThat(silence[0]).isEqualTo(millis(5_300)));
	}

	@Test
	void aSilenceEndedByThisSidesWriteSurvivesOnlyOnceThePeerAnswers() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofSeconds(10));
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, PingKind.CLIENT_KEEPALIVE_PAYLOAD)));
		assertThat(this.survived).isEmpty();

		advance(Duration.ofMillis(20));
		channel.writeInbound(frames((bytes) -> ping(bytes, true, PingKind.CLIENT_KEEPALIVE_PAYLOAD)));

		assertThat(this.survived).singleElement().satisfies((silence) -> assertThat(silence[0]).isEqualTo(millis(10_000)));
	}

	@Test
	void silencesUnderASecondAreTrafficAndNeverReported() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofMillis(999));
		channel.writeInbound(frames((bytes) -> ping(bytes, false, 42)));
		advance(Duration.ofMillis(999));
		channel.close();

		assertThat(this.survived).isEmpty();
		assertThat(closed(tracker).silenceBeforeClose()).isNull();
	}

	@Test
	void aConnectionThePeerClosesDuringASilenceEndsWithThatSilence() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofMillis(400));
		channel.writeInbound(frames((bytes) -> ping(bytes, false, 42)));
		advance(Duration.ofMillis(3_002));
		channel.close();

		ConnectionSnapshot closed = closed(tracker);
		assertThat(closed.closeReason()).isEqualTo(CloseReason.PEER_CLOSED);
		assertThat(closed.silenceBeforeClose()).isEqualTo(new SilenceBeforeClose(millis(3_002), false, false));
	}

	@Test
	void aResetRightAfterTheFirstWriteAfterASilenceIsDeathByThatSilence() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofSeconds(400));
		channel.writeOutbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 3, new byte[0])));
		advance(Duration.ofMillis(2));
		channel.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
		try {
			channel.checkException();
		}
		catch (Exception ex) {
			// the embedded channel hands back what reached the end of the pipeline
		}
		channel.close();

		ConnectionSnapshot closed = closed(tracker);
		assertThat(closed.closeReason()).isEqualTo(CloseReason.ERROR);
		assertThat(closed.silenceBeforeClose()).isEqualTo(new SilenceBeforeClose(millis(400_000), true, false));
		assertThat(this.survived).isEmpty();
	}

	@Test
	void aKeepAliveTimeoutAfterAnIdleGapIsDeathByTheGap() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofSeconds(10));
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, PingKind.CLIENT_KEEPALIVE_PAYLOAD)));
		advance(TIMEOUT);
		channel.close();

		ConnectionSnapshot closed = closed(tracker);
		assertThat(closed.closeReason()).isEqualTo(CloseReason.KEEPALIVE_TIMEOUT);
		assertThat(closed.silenceBeforeClose()).isEqualTo(new SilenceBeforeClose(millis(10_000), true, false));
	}

	@Test
	void aWriteLeftUnansweredLongBeforeTheCloseIsASilenceFromThatWrite() {
		ConnectionTracker tracker = tracker();
		EmbeddedChannel channel = clientChannel(tracker);
		advance(Duration.ofSeconds(5));
		channel.writeOutbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 3, new byte[0])));
		advance(Duration.ofSeconds(15));
		channel.close();

		assertThat(closed(tracker).silenceBeforeClose()).isEqualTo(new SilenceBeforeClose(millis(15_000), false, false));
	}

	private ConnectionTracker tracker() {
		ConnectionTracker tracker = new ConnectionTracker(Side.CLIENT, "prices", null, null, this.nanos::get,
				Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC), ConnectionTracker.DEFAULT_HISTORY_SIZE);
		tracker.view().addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void silenceSurvived(ConnectionTrackerView source, long connection, long silenceNanos,
					boolean withCalls) {
				FrameObserverSilenceTests.this.survived.add(new long[] { silenceNanos, withCalls ? 1 : 0 });
			}

		});
		return tracker;
	}

	/** A client connection after the handshake, at the time of its last handshake frame. */
	private EmbeddedChannel clientChannel(ConnectionTracker tracker) {
		EmbeddedChannel channel = new EmbeddedChannel(new FrameObserver(tracker, false, TIMEOUT, this.nanos::get));
		channel.freezeTime();
		this.channels.add(channel);
		channel.writeOutbound(frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
		}));
		channel.writeInbound(frames((bytes) -> frame(bytes, SETTINGS, 0, new byte[0])));
		channel.releaseInbound();
		channel.releaseOutbound();
		return channel;
	}

	private static ConnectionSnapshot closed(ConnectionTracker tracker) {
		assertThat(tracker.view().recentlyClosed()).hasSize(1);
		return tracker.view().recentlyClosed().get(0);
	}

	private void advance(Duration duration) {
		this.nanos.addAndGet(duration.toNanos());
	}

	private static long millis(long millis) {
		return TimeUnit.MILLISECONDS.toNanos(millis);
	}

	private static ByteBuf frames(java.util.function.Consumer<ByteBuf> writer) {
		ByteBuf bytes = Unpooled.buffer();
		writer.accept(bytes);
		return bytes;
	}

}
