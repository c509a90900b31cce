package dev.grpckeepalive.transport;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufUtil;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.transport.FrameFloodLimits;
import dev.grpckeepalive.connection.PingKind;

import static dev.grpckeepalive.transport.Http2Frames.PREFACE;
import static dev.grpckeepalive.transport.Http2Frames.SETTINGS;
import static dev.grpckeepalive.transport.Http2Frames.frame;
import static dev.grpckeepalive.transport.Http2Frames.goAway;
import static dev.grpckeepalive.transport.Http2Frames.ping;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frame observer in an {@link EmbeddedChannel}, on a fake ticker shared with a real
 * {@link ConnectionTracker}: what it records is read back through the tracker's read
 * methods only. Bytes are built by hand; "inbound" is what this side reads, "outbound" what
 * it writes.
 */
class FrameObserverTests {

	private static final Duration TIMEOUT = Duration.ofSeconds(1);

	private static final long SERVER_KEEPALIVE = PingKind.SERVER_KEEPALIVE_PAYLOAD;

	private static final long CLIENT_KEEPALIVE = PingKind.CLIENT_KEEPALIVE_PAYLOAD;

	/** The fake ticker of both the observer and the tracker; starts far from 0 so that no difference is accidentally 0. */
	private final AtomicLong nanos = new AtomicLong(TimeUnit.DAYS.toNanos(3));

	/** The observer's log lines written on this test's thread, where its EmbeddedChannels run: other tests run at the same time. */
	private final List<ILoggingEvent> logged = new CopyOnWriteArrayList<>();

	private final AppenderBase<ILoggingEvent> log = new AppenderBase<>() {

		@Override
		protected void append(ILoggingEvent event) {
			if (event.getThreadName().equals(FrameObserverTests.this.thread)) {
				FrameObserverTests.this.logged.add(event);
			}
		}

	};

	private final List<EmbeddedChannel> channels = new ArrayList<>();

	private String thread;

	@BeforeEach
	void captureObserverLog() {
		this.thread = Thread.currentThread().getName();
		this.log.start();
		observerLogger().addAppender(this.log);
	}

	@AfterEach
	void releaseChannels() {
		observerLogger().detachAppender(this.log);
		this.channels.forEach(EmbeddedChannel::finishAndReleaseAll);
	}

	@ParameterizedTest(name = "unacked for timeout + ({0}) ns")
	@ValueSource(longs = { -1, 0 })
	void keepAlivePingOverdueFromExactlyTheTimeoutWhenTheChannelGoesInactive(long offset) {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));

		this.nanos.addAndGet(TIMEOUT.toNanos() + offset);
		channel.close();

		boolean overdue = offset >= 0;
		assertThat(tracker.view().pings().sent()).isEqualTo(1);
		assertThat(tracker.view().pings().acked()).isZero();
		assertThat(tracker.view().pings().timeouts()).isEqualTo(overdue ? 1 : 0);
		assertThat(tracker.view().closedConnections(CloseReason.KEEPALIVE_TIMEOUT)).isEqualTo(overdue ? 1 : 0);
		assertThat(tracker.view().closedConnections(CloseReason.PEER_CLOSED)).isEqualTo(overdue ? 0 : 1);
		assertThat(tracker.view().openConnections()).isEmpty();
	}

	@Test
	void clientKeepAlivePingOverdueWhenTheChannelGoesInactive() {
		ConnectionTracker tracker = tracker(Side.CLIENT);
		EmbeddedChannel channel = channel(tracker, false);
		handshake(channel, false);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));

		this.nanos.addAndGet(TIMEOUT.toNanos());
		channel.close();

		assertThat(tracker.view().pings().sent(PingKind.KEEPALIVE)).isEqualTo(1);
		assertThat(tracker.view().pings().timeouts()).isEqualTo(1);
		assertThat(tracker.view().closedConnections(CloseReason.KEEPALIVE_TIMEOUT)).isEqualTo(1);
	}

	/**
	 * A client's keepalive PING leaves in a task queued after grpc-java started the timeout
	 * (its {@code WriteQueue}): on a starved event loop it leaves late, and the timer's
	 * GOAWAY then comes less than the timeout after the flush. The allowance is a quarter of
	 * the timeout here (250 ms of 1 s); a GOAWAY before that is not the timeout's.
	 */
	@ParameterizedTest(name = "client GOAWAY at timeout - allowance + ({0}) ns")
	@ValueSource(longs = { -1, 0 })
	void clientGoAwayAfterAPingThatLeftLateIsStillItsKeepAliveTimeout(long offset) {
		ConnectionTracker tracker = tracker(Side.CLIENT);
		EmbeddedChannel channel = channel(tracker, false);
		handshake(channel, false);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, CLIENT_KEEPALIVE)));
		long allowance = ObserverSettings.clientQueueAllowance(TIMEOUT.toNanos());
		assertThat(allowance).isEqualTo(Duration.ofMillis(250).toNanos());

		this.nanos.addAndGet(TIMEOUT.toNanos() - allowance + offset);
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));

		boolean overdue = offset >= 0;
		assertThat(tracker.view().pings().timeouts()).isEqualTo(overdue ? 1 : 0);
		assertThat(only(tracker).socketReleasedByStarter()).isEqualTo(overdue);
	}

	@Test
	void clientQueueAllowanceIsAQuarterOfTheTimeoutAndAtMost250Milliseconds() {
		assertThat(ObserverSettings.clientQueueAllowance(Duration.ofMillis(100).toNanos()))
			.isEqualTo(Duration.ofMillis(25).toNanos());
		assertThat(ObserverSettings.clientQueueAllowance(Duration.ofSeconds(20).toNanos()))
			.isEqualTo(Duration.ofMillis(250).toNanos());
	}

	@Test
	void goAwayOneNanosecondBeforeTheTimeoutIsNoKeepAliveTimeoutAndReleasesNothing() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		String id = only(tracker).id();

		this.nanos.addAndGet(TIMEOUT.toNanos() - 1);
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));
		channel.advanceTimeBy(FrameObserver.KEEPALIVE_TIMEOUT_CLOSE_DELAY.toMillis() * 2, TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();

		assertThat(tracker.view().pings().timeouts()).isZero();
		assertThat(current(tracker, id).socketReleasedByStarter()).isFalse();
		assertThat(channel.isOpen()).as("left to grpc-java").isTrue();
		assertThat(tracker.view().openConnections()).extracting(ConnectionSnapshot::id).containsExactly(id);
	}

	@Test
	void goAwayAtExactlyTheTimeoutIsAKeepAliveTimeoutAndTheObserverClosesTheChannelOneSecondLater() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		String id = only(tracker).id();

		this.nanos.addAndGet(TIMEOUT.toNanos());
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));

		assertThat(tracker.view().pings().timeouts()).isEqualTo(1);
		assertThat(current(tracker, id).socketReleasedByStarter()).isTrue();
		long delay = FrameObserver.KEEPALIVE_TIMEOUT_CLOSE_DELAY.toMillis();
		channel.advanceTimeBy(delay - 1, TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();
		assertThat(channel.isOpen()).as("open until the delay is over").isTrue();
		assertThat(current(tracker, id).isClosed()).isFalse();

		channel.advanceTimeBy(1, TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();

		assertThat(channel.isOpen()).isFalse();
		assertThat(current(tracker, id).closeReason()).isEqualTo(CloseReason.KEEPALIVE_TIMEOUT);
		assertThat(tracker.view().closedConnections(CloseReason.KEEPALIVE_TIMEOUT)).isEqualTo(1);
		assertThat(tracker.view().pings().timeouts()).as("counted once, not again when the channel went inactive")
			.isEqualTo(1);
		assertThat(tracker.view().find(id)).hasValueSatisfying((closed) -> assertThat(closed.isClosed()).isTrue());
	}

	@Test
	void keepAliveTimeoutGoAwayAfterWhichGrpcJavaClosesTheChannelItself() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		this.nanos.addAndGet(TIMEOUT.toNanos() + 5);
		channel.writeOutbound(frames((bytes) -> goAway(bytes, 0, "")));

		channel.close();
		channel.advanceTimeBy(FrameObserver.KEEPALIVE_TIMEOUT_CLOSE_DELAY.toMillis(), TimeUnit.MILLISECONDS);
		channel.runScheduledPendingTasks();

		assertThat(tracker.view().closedConnections(CloseReason.KEEPALIVE_TIMEOUT)).isEqualTo(1);
		assertThat(tracker.view().pings().timeouts()).isEqualTo(1);
		channel.checkException();
	}

	@Test
	void ackWithinTheTimeoutRecordsTheRoundTripAndNoTimeout() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));

		this.nanos.addAndGet(TIMEOUT.toNanos() - 1);
		channel.writeInbound(frames((bytes) -> ping(bytes, true, SERVER_KEEPALIVE)));
		this.nanos.addAndGet(TIMEOUT.toNanos());
		channel.close();

		assertThat(tracker.view().pings().acked()).isEqualTo(1);
		assertThat(tracker.view().pings().snapshot().rttMillis().last()).isEqualTo((TIMEOUT.toNanos() - 1) / 1_000_000.0);
		assertThat(tracker.view().pings().timeouts()).isZero();
		assertThat(tracker.view().closedConnections(CloseReason.PEER_CLOSED)).isEqualTo(1);
	}

	@Test
	void bytesPassUnchangedInBothDirections() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);
		ByteBuf in = frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[6]);
			ping(bytes, false, 77);
		});
		ByteBuf out = frames((bytes) -> {
			frame(bytes, SETTINGS, 0, new byte[0]);
			ping(bytes, true, 77);
			ping(bytes, false, SERVER_KEEPALIVE);
		});
		byte[] inCopy = ByteBufUtil.getBytes(in);
		byte[] outCopy = ByteBufUtil.getBytes(out);

		channel.writeInbound(in);
		channel.writeOutbound(out);

		ByteBuf read = channel.readInbound();
		ByteBuf written = channel.readOutbound();
		assertThat(read).isSameAs(in);
		assertThat(written).isSameAs(out);
		assertThat(read.readerIndex()).isZero();
		assertThat(written.readerIndex()).isZero();
		assertThat(ByteBufUtil.getBytes(read)).isEqualTo(inCopy);
		assertThat(ByteBufUtil.getBytes(written)).isEqualTo(outCopy);
		assertThat(tracker.view().pings().received()).isEqualTo(1);
		assertThat(tracker.view().pings().sent()).isEqualTo(1);
		read.release();
		written.release();
	}

	@Test
	void serverMovesItselfBehindTheSslHandlerOnATlsClientHello() throws Exception {
		byte[] clientHello = clientHello();
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = track(new EmbeddedChannel(observer(tracker, true), sslHandler(false)));
		channel.freezeTime();

		// all of the ClientHello but its last byte: the SslHandler waits for the rest and the handshake stays open
		channel.writeInbound(Unpooled.wrappedBuffer(clientHello, 0, clientHello.length - 1));

		assertObserverBehindSslHandler(channel);
		String id = only(tracker).id();
		assertThat(current(tracker, id).observed()).isTrue();
		assertThat(this.logged).isEmpty();
		// what the SslHandler passes on, decrypted, is read by the moved observer
		channel.pipeline().context(SslHandler.class).fireChannelRead(frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
			ping(bytes, false, CLIENT_KEEPALIVE);
		}));
		assertThat(tracker.view().pings().received()).isEqualTo(1);
		assertThat(tracker.view().openedConnections()).as("the same connection record").isEqualTo(1);
		assertThat(only(tracker).id()).isEqualTo(id);
		channel.checkException();
	}

	@Test
	void clientMovesItselfBehindTheSslHandlerWhenItWritesTheClientHello() throws Exception {
		ConnectionTracker tracker = tracker(Side.CLIENT);
		// the SslHandler, added to an active channel, starts the handshake at once
		EmbeddedChannel channel = track(new EmbeddedChannel(observer(tracker, false), sslHandler(true)));

		ByteBuf hello = channel.readOutbound();

		assertThat(hello.getByte(hello.readerIndex())).as("the ClientHello, passed on").isEqualTo((byte) 0x16);
		hello.release();
		assertObserverBehindSslHandler(channel);
		assertThat(only(tracker).observed()).isTrue();
		assertThat(this.logged).isEmpty();
		channel.pipeline().context(SslHandler.class).fireChannelRead(frames((bytes) -> {
			frame(bytes, SETTINGS, 0, new byte[0]);
			ping(bytes, false, SERVER_KEEPALIVE);
		}));
		assertThat(tracker.view().pings().received()).isEqualTo(1);
	}

	@Test
	void tlsClientHelloWithoutAnSslHandlerSwitchesTheObserverOff() throws Exception {
		byte[] clientHello = clientHello();
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);

		assertSwitchedOffAndPassesBytes(channel, tracker, clientHello);
	}

	@Test
	void http11RequestSwitchesTheObserverOffWithOneWarnAndBytesStillPass() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		EmbeddedChannel channel = serverChannel(tracker);

		assertSwitchedOffAndPassesBytes(channel, tracker,
				"GET / HTTP/1.1\r\nHost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
	}

	@Test
	void aFailingListenerSwitchesTheObserverOffInsteadOfThrowingIntoThePipeline() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		tracker.view().addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void pingAcknowledged(ConnectionTrackerView source, PingKind kind, long roundTripNanos) {
				throw new IllegalStateException("listener failure");
			}

		});
		EmbeddedChannel channel = serverChannel(tracker);
		handshake(channel, true);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
		ByteBuf ack = frames((bytes) -> ping(bytes, true, SERVER_KEEPALIVE));

		channel.writeInbound(ack);

		channel.checkException();
		assertThat((ByteBuf) channel.readInbound()).isSameAs(ack);
		assertThat(only(tracker).observerOffReason()).startsWith("observer failure: ")
			.contains("listener failure");
		assertThat(warnings()).hasSize(1);
		ack.release();
	}

	@Test
	void aClientOverAFloodLimitGetsGoAwayEnhanceYourCalmAndIsClosedAsAbuse() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		FrameFloodLimits limits = new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), 3, 100, 10, 100, 10, 1000);
		EmbeddedChannel channel = track(new EmbeddedChannel(new FrameObserver(tracker, true, TIMEOUT, this.nanos::get, limits)));
		channel.freezeTime();
		handshake(channel, true);
		// a HEADERS on stream 5: the GOAWAY's last stream
		channel.writeInbound(frames((bytes) -> frame(bytes, Http2Frames.HEADERS, 0x4, 5, new byte[0])));
		channel.releaseInbound();
		String id = only(tracker).id();

		channel.writeInbound(frames((bytes) -> {
			for (int i = 0; i < 3; i++) {
				ping(bytes, true, 42);
			}
		}));
		assertThat(channel.isOpen()).as("at the limit").isTrue();
		assertThat(channel.inboundMessages()).as("passed on to grpc-java").hasSize(1);
		channel.releaseInbound();
		channel.writeInbound(frames((bytes) -> {
			ping(bytes, true, 42);
			ping(bytes, true, 43);
		}));

		assertThat(channel.inboundMessages()).as("the flood goes no further").isEmpty();
		ByteBuf goAway = channel.readOutbound();
		assertThat(goAway.getByte(3)).isEqualTo((byte) Http2Frames.GOAWAY);
		assertThat(goAway.getInt(9)).as("last stream").isEqualTo(5);
		assertThat(goAway.getInt(13)).as("ENHANCE_YOUR_CALM").isEqualTo(0xb);
		assertThat(goAway.toString(17, goAway.readableBytes() - 17, StandardCharsets.US_ASCII))
			.isEqualTo("max-unsolicited-ping-acks");
		goAway.release();
		channel.runPendingTasks();
		assertThat(channel.isOpen()).isFalse();
		ConnectionSnapshot closed = current(tracker, id);
		assertThat(closed.closeReason()).isEqualTo(CloseReason.ABUSE);
		assertThat(closed.abuseLimit()).isEqualTo("max-unsolicited-ping-acks");
		assertThat(closed.lastGoAwaySent().reason()).isEqualTo(CloseReason.ABUSE);
		assertThat(tracker.view().closedConnections(CloseReason.ABUSE)).isEqualTo(1);
	}

	@Test
	void streamsTheServerRefusesPastTheBurstCloseTheConnectionAsAbuse() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		FrameFloodLimits limits = new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), 10, 100, 10, 100, 10, 3);
		EmbeddedChannel channel = track(new EmbeddedChannel(new FrameObserver(tracker, true, TIMEOUT, this.nanos::get, limits)));
		channel.freezeTime();
		handshake(channel, true);
		String id = only(tracker).id();
		for (int stream = 1; stream <= 7; stream += 2) {
			int refused = stream;
			channel.writeInbound(frames((bytes) -> frame(bytes, Http2Frames.HEADERS, 0x4, refused, new byte[1])));
			// grpc-java refuses it: RST_STREAM REFUSED_STREAM (the last one fails: the observer closed the channel)
			channel.writeAndFlush(frames((bytes) -> frame(bytes, 0x3, 0, refused, new byte[] { 0, 0, 0, 7 })));
		}
		channel.releaseInbound();

		ByteBuf goAway = null;
		for (Object written = channel.readOutbound(); written != null; written = channel.readOutbound()) {
			ByteBuf frame = (ByteBuf) written;
			if (frame.getByte(3) == Http2Frames.GOAWAY) {
				goAway = frame;
			}
			else {
				frame.release();
			}
		}
		assertThat(goAway).as("a GOAWAY after the fourth refusal").isNotNull();
		assertThat(goAway.getInt(9)).as("last stream").isEqualTo(7);
		assertThat(goAway.toString(17, goAway.readableBytes() - 17, StandardCharsets.US_ASCII))
			.isEqualTo("max-premature-resets");
		goAway.release();
		channel.runPendingTasks();
		assertThat(channel.isOpen()).isFalse();
		assertThat(current(tracker, id).abuseLimit()).isEqualTo("max-premature-resets");
	}

	@Test
	void cCoreWindowUpdatesForTrailersOnlyAnswersAreNoFlood() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		FrameFloodLimits limits = new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), 10, 100, 10, 100, 10, 1000);
		EmbeddedChannel channel = track(new EmbeddedChannel(new FrameObserver(tracker, true, TIMEOUT, this.nanos::get, limits)));
		channel.freezeTime();
		handshake(channel, true);
		byte[] increment = { 0, 0, 0x40, 0 };
		for (int stream = 1; stream < 20_000; stream += 2) {
			int call = stream;
			channel.writeInbound(frames((bytes) -> {
				frame(bytes, Http2Frames.HEADERS, 0x4, call, new byte[20]);
				frame(bytes, Http2Frames.DATA, 0x1, call, new byte[5]);
				frame(bytes, 0x8, 0, call, increment);
				frame(bytes, 0x8, 0, 0, increment);
			}));
			// UNIMPLEMENTED, trailers only
			channel.writeOutbound(frames((bytes) -> frame(bytes, Http2Frames.HEADERS, 0x5, call, new byte[30])));
			channel.releaseInbound();
			channel.releaseOutbound();
		}
		assertThat(channel.isOpen()).isTrue();
		assertThat(tracker.view().closedConnections(CloseReason.ABUSE)).isZero();
	}

	@Test
	void pingAcksForThePingsTheServerSentAreNeverAFlood() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		FrameFloodLimits limits = new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), 1, 100, 10, 100, 10, 1000);
		EmbeddedChannel channel = track(new EmbeddedChannel(new FrameObserver(tracker, true, TIMEOUT, this.nanos::get, limits)));
		channel.freezeTime();
		handshake(channel, true);
		for (int i = 0; i < 50; i++) {
			channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));
			channel.writeInbound(frames((bytes) -> ping(bytes, true, SERVER_KEEPALIVE)));
		}
		channel.releaseInbound();
		channel.releaseOutbound();

		assertThat(channel.isOpen()).isTrue();
		assertThat(tracker.view().pings().acked()).isEqualTo(50);
	}

	@Test
	void aChannelNeverEnforcesFloodLimits() {
		ConnectionTracker tracker = tracker(Side.CLIENT);
		FrameFloodLimits limits = new FrameFloodLimits(Duration.ofSeconds(10).toNanos(), 1, 1, 1, 1, 0, 1);
		EmbeddedChannel channel = track(new EmbeddedChannel(new FrameObserver(tracker, false, TIMEOUT, this.nanos::get, limits)));
		channel.freezeTime();
		handshake(channel, false);
		channel.writeInbound(frames((bytes) -> {
			for (int i = 0; i < 10; i++) {
				ping(bytes, true, 42);
				frame(bytes, SETTINGS, 0, new byte[0]);
			}
		}));
		channel.releaseInbound();
		assertThat(channel.isOpen()).isTrue();
	}

	@Test
	void aListenerFailingOnCloseDoesNotKeepTheInactiveEventFromGrpcJava() {
		ConnectionTracker tracker = tracker(Side.SERVER);
		tracker.view().addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void connectionClosed(ConnectionTrackerView source, ConnectionSnapshot connection) {
				throw new IllegalStateException("listener failure");
			}

		});
		InactiveRecorder next = new InactiveRecorder();
		EmbeddedChannel channel = track(new EmbeddedChannel(observer(tracker, true), next));
		handshake(channel, true);

		channel.close();

		channel.checkException();
		assertThat(next.inactive).as("channelInactive reached the next handler").isTrue();
		assertThat(tracker.view().closedConnections(CloseReason.PEER_CLOSED)).isEqualTo(1);
		assertThat(warnings()).singleElement()
			.satisfies((event) -> assertThat(event.getFormattedMessage()).isEqualTo("Recording the close of connection s-1 failed"));
	}

	private void assertSwitchedOffAndPassesBytes(EmbeddedChannel channel, ConnectionTracker tracker, byte[] first) {
		ByteBuf in = Unpooled.wrappedBuffer(first);
		ByteBuf more = frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
			ping(bytes, false, CLIENT_KEEPALIVE);
		});

		channel.writeInbound(in);
		channel.writeInbound(more);
		channel.writeOutbound(frames((bytes) -> ping(bytes, false, SERVER_KEEPALIVE)));

		channel.checkException();
		assertThat((ByteBuf) channel.readInbound()).isSameAs(in)
			.satisfies((read) -> assertThat(ByteBufUtil.getBytes(read)).isEqualTo(first));
		assertThat((ByteBuf) channel.readInbound()).isSameAs(more);
		String id = only(tracker).id();
		assertThat(current(tracker, id).observed()).isFalse();
		assertThat(current(tracker, id).observerOffReason()).isEqualTo("the connection does not start with the HTTP/2 client preface");
		assertThat(warnings()).singleElement()
			.satisfies((event) -> assertThat(event.getFormattedMessage())
				.startsWith("HTTP/2 frame observer off for connection " + id + " ")
				.endsWith("the connection does not start with the HTTP/2 client preface; the connection is left to grpc-java"));
		assertThat(tracker.view().pings().received()).as("nothing observed after the switch-off").isZero();
		assertThat(tracker.view().pings().sent()).isZero();

		this.nanos.addAndGet(TIMEOUT.toNanos() * 10);
		channel.close();

		assertThat(tracker.view().closedConnections(CloseReason.ERROR)).isEqualTo(1);
		assertThat(tracker.view().pings().timeouts()).isZero();
		in.release();
		more.release();
	}

	private static void assertObserverBehindSslHandler(EmbeddedChannel channel) {
		List<String> names = channel.pipeline().names();
		assertThat(names.stream().filter((name) -> channel.pipeline().get(name) instanceof FrameObserver))
			.as("one observer in " + names)
			.containsExactly(FrameObserver.NAME + "Tls");
		assertThat(names.indexOf(FrameObserver.NAME + "Tls"))
			.isEqualTo(names.indexOf(channel.pipeline().context(SslHandler.class).name()) + 1);
	}

	/** The first bytes a TLS client writes, from the JDK's own engine. */
	private byte[] clientHello() throws Exception {
		EmbeddedChannel client = track(new EmbeddedChannel(sslHandler(true)));
		ByteBuf hello = client.readOutbound();
		try {
			return ByteBufUtil.getBytes(hello);
		}
		finally {
			hello.release();
		}
	}

	private static SslHandler sslHandler(boolean client) throws Exception {
		SSLEngine engine = SSLContext.getDefault().createSSLEngine();
		engine.setUseClientMode(client);
		return new SslHandler(engine);
	}

	private ConnectionTracker tracker(Side side) {
		return new ConnectionTracker(side, (side == Side.SERVER) ? "server" : "prices", null, null,
				this.nanos::get, Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC),
				ConnectionTracker.DEFAULT_HISTORY_SIZE);
	}

	private FrameObserver observer(ConnectionTracker tracker, boolean serverSide) {
		return new FrameObserver(tracker, serverSide, TIMEOUT, this.nanos::get);
	}

	private EmbeddedChannel serverChannel(ConnectionTracker tracker) {
		return channel(tracker, true);
	}

	private EmbeddedChannel channel(ConnectionTracker tracker, boolean serverSide) {
		EmbeddedChannel channel = track(new EmbeddedChannel(observer(tracker, serverSide)));
		// the observer's forced close is scheduled on the channel's event loop: its time moves only when told
		channel.freezeTime();
		return channel;
	}

	private EmbeddedChannel track(EmbeddedChannel channel) {
		this.channels.add(channel);
		return channel;
	}

	/** Preface (from the client) and SETTINGS in both directions, as each side's first bytes. */
	private static void handshake(EmbeddedChannel channel, boolean serverSide) {
		ByteBuf clientFirst = frames((bytes) -> {
			bytes.writeBytes(PREFACE);
			frame(bytes, SETTINGS, 0, new byte[0]);
		});
		ByteBuf serverFirst = frames((bytes) -> frame(bytes, SETTINGS, 0, new byte[0]));
		if (serverSide) {
			channel.writeInbound(clientFirst);
			channel.writeOutbound(serverFirst);
		}
		else {
			channel.writeOutbound(clientFirst);
			channel.writeInbound(serverFirst);
		}
		channel.releaseInbound();
		channel.releaseOutbound();
	}

	private static ConnectionSnapshot only(ConnectionTracker tracker) {
		assertThat(tracker.view().openConnections()).hasSize(1);
		return tracker.view().openConnections().iterator().next();
	}

	/** The connection as it is now, open or closed. */
	private static ConnectionSnapshot current(ConnectionTracker tracker, String id) {
		return tracker.view().find(id).orElseThrow();
	}

	private static ByteBuf frames(java.util.function.Consumer<ByteBuf> writer) {
		ByteBuf bytes = Unpooled.buffer();
		writer.accept(bytes);
		return bytes;
	}

	private List<ILoggingEvent> warnings() {
		return this.logged.stream().filter((event) -> event.getLevel() == Level.WARN).toList();
	}

	private static Logger observerLogger() {
		return (Logger) LoggerFactory.getLogger(FrameObserver.class);
	}

	/** Stands for grpc-java's handler after the observer: must see the connection end. */
	@ChannelHandler.Sharable
	private static final class InactiveRecorder extends ChannelInboundHandlerAdapter {

		private boolean inactive;

		@Override
		public void channelInactive(ChannelHandlerContext ctx) throws Exception {
			this.inactive = true;
			super.channelInactive(ctx);
		}

	}

}
