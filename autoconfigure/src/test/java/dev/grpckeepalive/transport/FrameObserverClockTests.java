package dev.grpckeepalive.transport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.Side;

import static dev.grpckeepalive.transport.Http2Frames.DATA;
import static dev.grpckeepalive.transport.Http2Frames.HEADERS;
import static dev.grpckeepalive.transport.Http2Frames.PREFACE;
import static dev.grpckeepalive.transport.Http2Frames.SETTINGS;
import static dev.grpckeepalive.transport.Http2Frames.frame;
import static dev.grpckeepalive.transport.Http2Frames.goAway;
import static dev.grpckeepalive.transport.Http2Frames.ping;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frame observer's time: how often it reads its ticker (once per event: a read, a batch
 * of writes with their flush, a close with a keepalive PING outstanding) and which time
 * each decision is taken with. The observer's ticker counts its reads; the tracker has the
 * same fake time, uncounted.
 */
class FrameObserverClockTests {

	private static final Duration TIMEOUT = Duration.ofSeconds(1);

	private static final long MILLI = TimeUnit.MILLISECONDS.toNanos(1);

	private static final long SERVER_KEEPALIVE = PingKind.SERVER_KEEPALIVE_PAYLOAD;

	private static final long CLIENT_KEEPALIVE = PingKind.CLIENT_KEEPALIVE_PAYLOAD;

	private final AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(3));

	private final AtomicInteger reads = new AtomicInteger();

	/** The observer's ticker: the fake time, each read counted. */
	private final LongSupplier ticker = () -> {
		this.reads.incrementAndGet();
		return this.nanos.get();
	};

	/** Round trips, in nanoseconds, as the tracker's listeners get them. */
	private final List<Long> roundTrips = new ArrayList<>();

	/** The idle time before each keepalive PING this side sent. */
	private final List<Long> keepAliveIdle = new ArrayList<>();

	private final List<EmbeddedChannel> channels = new ArrayList<>();

	@AfterEach
	void release() {
		this.channels.forEach(EmbeddedChannel::finishAndReleaseAll);
	}

	@Test
	void oneTickerReadPerReadHoweverManyFramesItCarries() {
		EmbeddedChannel channel = serverChannel(tracker(Side.SERVER), limits(10, 1000));
		this.reads.set(0);

		channel.writeInbound(frames((bytes) -> {
			for (int stream = 1; stream < 40; stream += 2) {
				frame(bytes, HEADERS, 0x4, stream, new byte[20]);
				frame(bytes, DATA, 0x1, stream, new byte[5]);
				frame(bytes, 0x8, 0, 0, new byte[] { 0, 0, 0x40, 0 });
				ping(bytes, false, 42);
			}
			frame(bytes, SETTINGS, 0, new byte[0]);
			ping(bytes, true, 99);
		}));

		assertThat(this.reads).hasValue(1);
		assertThat(channel.isOpen()).isTrue();
	}

	@Test
	void oneTickerReadPerBatchOfWritesAndItsFlush() {
		EmbeddedChannel channel = serverChannel(tracker(Side.SERVER), limits(10, 1000));
		channel.writeInbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[20])));
		channel.releaseInbound();
		this.reads.set(0);

		// a server's answer: HEADERS, DATA, trailers and a PING, each in its own write, one flush
		channel.write(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[10])));
		channel.write(frames((bytes) -> frame(bytes, DATA, 0, 1, new byte[10])));
		channel.write(frames((bytes) -> frame(bytes, HEADERS, 0x5, 1, new byte[10])));
		channel.write(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		channel.flush();

		assertThat(this.reads).hasValue(1);
		this.reads.set(0);
		channel.write(frames((bytes) -> frame(bytes, DATA, 0, 1, new byte[10])));
		channel.flush();
		assertThat(this.reads).as("the next batch, its own time").hasValue(1);
	}

	@Test
	void aFlushReadsTheTickerOnlyWhenSomethingWasWritten() {
		EmbeddedChannel channel = clientChannel(tracker(Side.CLIENT));
		this.reads.set(0);

		channel.flush();
		assertThat(this.reads).hasValue(0);

		channel.write(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		assertThat(this.reads).as("a PING's time is its flush's").hasValue(0);
		channel.flush();
		assertThat(this.reads).hasValue(1);
	}

	@Test
	void writesAndFlushesInsideAReadHaveTheReadsTime() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker, limits(10, 1000));
		// grpc-java's handler, answering inside the read: HEADERS, DATA and a BDP PING, flushed
		channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {

			@Override
			public void channelRead(ChannelHandlerContext ctx, Object msg) {
				ReferenceCountUtil.release(msg);
				FrameObserverClockTests.this.nanos.addAndGet(3 * MILLI);
				ctx.write(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[10])));
				ctx.write(frames((bytes) -> frame(bytes, DATA, 0, 1, new byte[10])));
				ctx.writeAndFlush(frames((bytes) -> ping(bytes, false, PingKind.BDP_PAYLOAD)));
			}

		});
		this.reads.set(0);
		long readAt = this.nanos.get();

		channel.writeInbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[20])));

		assertThat(this.reads).hasValue(1);
		// the PING was stamped with the read's time: its ACK 10 ms after the read is a 10 ms round trip
		this.nanos.set(readAt + 10 * MILLI);
		channel.writeInbound(frames((bytes) -> ping(bytes, true, PingKind.BDP_PAYLOAD)));
		assertThat(this.roundTrips).containsExactly(10 * MILLI);
	}

	@Test
	void theChannelGoingInactiveReadsTheTickerOnlyWithAKeepAlivePingOutstanding() {
		EmbeddedChannel quiet = clientChannel(tracker(Side.CLIENT));
		this.reads.set(0);
		quiet.close();
		assertThat(this.reads).hasValue(0);

		ConnectionTracker tracker = tracker(Side.CLIENT);
		EmbeddedChannel waiting = clientChannel(tracker);
		waiting.writeOutbound(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		this.nanos.addAndGet(TIMEOUT.toNanos());
		this.reads.set(0);
		waiting.close();
		assertThat(this.reads).hasValue(1);
		assertThat(tracker.view().pings().timeouts()).isEqualTo(1);
	}

	@Test
	void aRoundTripRunsFromTheFlushNotFromTheWrite() {
		EmbeddedChannel channel = clientChannel(tracker(Side.CLIENT));
		channel.write(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		this.nanos.addAndGet(5 * MILLI);
		channel.flush();
		this.nanos.addAndGet(7 * MILLI);

		channel.writeInbound(frames((bytes) -> ping(bytes, true, CLIENT_KEEPALIVE)));

		assertThat(this.roundTrips).containsExactly(7 * MILLI);
	}

	@Test
	void theIdleTimeBeforeAKeepAlivePingRunsToItsFlush() {
		EmbeddedChannel channel = clientChannel(tracker(Side.CLIENT));
		long lastRead = this.nanos.get();
		this.nanos.addAndGet(2 * MILLI);
		channel.write(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		this.nanos.addAndGet(3 * MILLI);

		channel.flush();

		assertThat(this.keepAliveIdle).containsExactly(this.nanos.get() - lastRead);
	}

	@Test
	void anAckForAPingNotFlushedYetIsARoundTripOf0AndLeavesNothingOutstanding() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		// no unsolicited PING ACK allowed: the ACK must count as solicited
		EmbeddedChannel channel = serverChannel(tracker, limits(0, 1000));
		channel.write(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));

		channel.writeInbound(frames((bytes) -> ping(bytes, true, SERVER_KEEPALIVE)));
		channel.releaseInbound();
		channel.flush();
		channel.releaseOutbound();
		this.nanos.addAndGet(10 * TIMEOUT.toNanos());
		channel.close();

		assertThat(this.roundTrips).containsExactly(0L);
		assertThat(tracker.view().pings().timeouts()).as("the flush after the ACK left no PING outstanding").isZero();
		assertThat(tracker.view().closedConnections(CloseReason.ABUSE)).isZero();
		assertThat(tracker.view().closedConnections(CloseReason.KEEPALIVE_TIMEOUT)).isZero();
	}

	@Test
	void aRoundTripIsNeverNegativeEvenOnATickerThatGoesBack() {
		EmbeddedChannel channel = clientChannel(tracker(Side.CLIENT));
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		this.nanos.addAndGet(-MILLI);

		channel.writeInbound(frames((bytes) -> ping(bytes, true, CLIENT_KEEPALIVE)));

		assertThat(this.roundTrips).containsExactly(0L);
	}

	@Test
	void theKeepAliveTimeoutRunsFromTheFlushOfThePing() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker, null);
		channel.write(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		this.nanos.addAndGet(5 * MILLI);
		channel.flush();
		channel.releaseOutbound();

		// a timeout after the write, 1 ns short of one after the flush
		this.nanos.addAndGet(TIMEOUT.toNanos() - 1);
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));
		assertThat(tracker.view().pings().timeouts()).isZero();
		assertThat(channel.isOpen()).as("nothing released").isTrue();

		this.nanos.addAndGet(1);
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));
		assertThat(tracker.view().pings().timeouts()).isEqualTo(1);
	}

	@Test
	void aKeepAlivePingWrittenWithTheGoAwayHasNotTimedOut() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker, null);

		channel.write(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		this.nanos.addAndGet(10 * TIMEOUT.toNanos());
		channel.write(frames((bytes) -> goAway(bytes, 0, "")));
		channel.flush();

		assertThat(tracker.view().pings().timeouts()).isZero();
	}

	@Test
	void aResetIsPrematureByTheTimesOfTheReadsOfItsStreamAndOfItself() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		// no premature reset allowed: the first one closes the connection
		EmbeddedChannel late = serverChannel(tracker, limits(10, 0));
		late.writeInbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[20])));
		this.nanos.addAndGet(FrameFloodGuard.PREMATURE_NANOS);
		late.writeInbound(frames((bytes) -> frame(bytes, 0x3, 0, 1, new byte[] { 0, 0, 0, 8 })));
		assertThat(late.isOpen()).as("a reset a millisecond after the stream opened").isTrue();

		EmbeddedChannel rapid = serverChannel(tracker, limits(10, 0));
		rapid.writeInbound(frames((bytes) -> frame(bytes, HEADERS, 0x4, 1, new byte[20])));
		this.nanos.addAndGet(FrameFloodGuard.PREMATURE_NANOS - 1);
		rapid.writeInbound(frames((bytes) -> frame(bytes, 0x3, 0, 1, new byte[] { 0, 0, 0, 8 })));
		rapid.runPendingTasks();
		assertThat(rapid.isOpen()).as("a reset within the millisecond").isFalse();
		assertThat(tracker.view().closedConnections(CloseReason.ABUSE)).isEqualTo(1);
	}

	private ConnectionTracker tracker(Side side) {
		ConnectionTracker tracker = new ConnectionTracker(side, (side == Side.SERVER) ? "server" : "prices", null,
				null, this.nanos::get, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
				ConnectionTracker.DEFAULT_HISTORY_SIZE);
		tracker.view().addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void pingAcknowledged(ConnectionTrackerView source, PingKind kind, long roundTripNanos) {
				FrameObserverClockTests.this.roundTrips.add(roundTripNanos);
			}

			@Override
			public void keepAlivePingSent(ConnectionTrackerView source, long connection, long idleNanos) {
				FrameObserverClockTests.this.keepAliveIdle.add(idleNanos);
			}

		});
		return tracker;
	}

	/** Limits with the given unsolicited PING ACKs and premature resets, the others high. */
	private static FrameFloodLimits limits(int unsolicitedPingAcks, int prematureResets) {
		return new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), unsolicitedPingAcks, 100, 100, 100, 10,
				prematureResets);
	}

	/** A server connection past its handshake. */
	private EmbeddedChannel serverChannel(ConnectionTracker tracker, @Nullable FrameFloodLimits limits) {
		EmbeddedChannel channel = channel(new FrameObserver(tracker, true, TIMEOUT, this.ticker, limits));
		channel.writeInbound(frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
		}));
		channel.writeOutbound(frames((bytes) -> frame(bytes, SETTINGS, 0, new byte[0])));
		channel.releaseInbound();
		channel.releaseOutbound();
		return channel;
	}

	/** A client connection past its handshake. */
	private EmbeddedChannel clientChannel(ConnectionTracker tracker) {
		EmbeddedChannel channel = channel(new FrameObserver(tracker, false, TIMEOUT, this.ticker));
		channel.writeOutbound(frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
		}));
		channel.writeInbound(frames((bytes) -> frame(bytes, SETTINGS, 0, new byte[0])));
		channel.releaseInbound();
		channel.releaseOutbound();
		return channel;
	}

	private EmbeddedChannel channel(FrameObserver observer) {
		EmbeddedChannel channel = new EmbeddedChannel(observer);
		channel.freezeTime();
		this.channels.add(channel);
		return channel;
	}

	private static ByteBuf frames(Consumer<ByteBuf> writer) {
		ByteBuf bytes = Unpooled.buffer();
		writer.accept(bytes);
		return bytes;
	}

}
