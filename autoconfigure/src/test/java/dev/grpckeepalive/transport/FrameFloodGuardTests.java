package dev.grpckeepalive.transport;

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import static dev.grpckeepalive.transport.FrameFloodGuard.FLAG_ACK;
import static dev.grpckeepalive.transport.FrameFloodGuard.FLAG_END_STREAM;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_CONTINUATION;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_DATA;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_HEADERS;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_RST_STREAM;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_SETTINGS;
import static dev.grpckeepalive.transport.FrameFloodGuard.TYPE_WINDOW_UPDATE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-connection flood counting, on an injected ticker: each flood is cut, and the
 * shapes of legitimate traffic measured from real peers (docs/security.md) pass. Each guard
 * is fed as the frame observer feeds it, with the highest stream the client opened
 * ({@link Fed}).
 */
class FrameFloodGuardTests {

	private static final long WINDOW = Duration.ofSeconds(10).toNanos();

	private static final long MILLI = Duration.ofMillis(1).toNanos();

	private static final int END_HEADERS = 0x4;

	private static final int PING = 0x6;

	/** The defaults of {@code grpc.keepalive.server.limits.*}. */
	private static final FrameFloodLimits DEFAULTS = new FrameFloodLimits(WINDOW, 10, 100, 10, 100, 10, 1000);

	private final Fed small = new Fed(new FrameFloodLimits(WINDOW, 3, 3, 3, 3, 2, 3));

	private final Fed guard = new Fed(DEFAULTS);

	private int nextStream = 1;

	@Test
	void theSettingsFrameAfterTheLimitBreaksItWithinOneWindow() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_SETTINGS, 0, 6, 0, i)).isNull();
			assertThat(this.small.inbound(TYPE_SETTINGS, FLAG_ACK, 0, 0, i)).as("an ACK").isNull();
		}
		assertThat(this.small.inbound(TYPE_SETTINGS, 0, 6, 0, 4)).isEqualTo(FrameFloodGuard.SETTINGS_FRAMES);
	}

	@Test
	void aNewWindowStartsAfterTheLastOneEnded() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.unsolicitedPingAck(0)).isNull();
		}
		assertThat(this.small.unsolicitedPingAck(WINDOW)).as("the window has passed").isNull();
		assertThat(this.small.unsolicitedPingAck(WINDOW + 1)).isNull();
		assertThat(this.small.unsolicitedPingAck(WINDOW + 2)).isNull();
		assertThat(this.small.unsolicitedPingAck(WINDOW + 3)).isEqualTo(FrameFloodGuard.UNSOLICITED_PING_ACKS);
	}

	@Test
	void emptyFramesCountOnlyInARunThatAFrameWithPayloadEnds() {
		int stream = open(this.small, 0);
		for (int round = 0; round < 10_000; round++) {
			for (int i = 0; i < 3; i++) {
				assertThat(this.small.inbound(TYPE_DATA, 0, 0, stream, round)).isNull();
			}
			// a WINDOW_UPDATE or a PING in between is no payload of a stream: the run goes on
			assertThat(this.small.inbound(PING, 0, 8, 0, round)).isNull();
			assertThat(this.small.inbound(TYPE_DATA, 0, 1, stream, round)).as("payload ends the run").isNull();
		}
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_DATA, 0, 0, stream, 0)).isNull();
		}
		assertThat(this.small.inbound(TYPE_DATA, 0, 0, stream, 0)).isEqualTo(FrameFloodGuard.CONSECUTIVE_EMPTY_FRAMES);
	}

	@Test
	void endStreamIsNotEmptyButEmptyHeadersAndContinuationsAre() {
		int stream = open(this.small, 0);
		for (int i = 0; i < 10_000; i++) {
			assertThat(this.small.inbound(TYPE_DATA, FLAG_END_STREAM, 0, stream, i)).as("a half-close").isNull();
			assertThat(this.small.inbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, 0, stream, i)).isNull();
		}
		assertThat(this.small.inbound(TYPE_HEADERS, 0, 0, stream, 0)).isNull();
		assertThat(this.small.inbound(TYPE_CONTINUATION, 0, 0, stream, 0)).isNull();
		assertThat(this.small.inbound(TYPE_DATA, 0, 0, stream, 0)).isNull();
		assertThat(this.small.inbound(TYPE_CONTINUATION, END_HEADERS, 0, stream, 0))
			.isEqualTo(FrameFloodGuard.CONSECUTIVE_EMPTY_FRAMES);
	}

	@Test
	void anEmptyDataFloodIsCutAtTheEleventhFrameWithTheDefaults() {
		int stream = open(this.guard, 0);
		for (int i = 0; i < 10; i++) {
			assertThat(this.guard.inbound(TYPE_DATA, 0, 0, stream, i)).isNull();
		}
		assertThat(this.guard.inbound(TYPE_DATA, 0, 0, stream, 10)).isEqualTo(FrameFloodGuard.CONSECUTIVE_EMPTY_FRAMES);
	}

	@Test
	void aWindowUpdateFloodOnAnIdleConnectionIsCutAfterTheBase() {
		this.guard.outbound(TYPE_SETTINGS, 0, 0);
		// the base and what the server's SETTINGS earned
		for (int i = 0; i < 100 + 10; i++) {
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, i)).isNull();
		}
		assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, 110)).isEqualTo(FrameFloodGuard.WINDOW_UPDATE_FRAMES);
	}

	@Test
	void aWindowUpdateFloodIsCutEvenAfterItsStreamsEarnedCredit() {
		// the attacker opens streams to earn credit, each answered trailers-only
		for (int i = 0; i < 1000; i++) {
			int stream = open(this.guard, i);
			this.guard.outbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, stream);
		}
		long sent = 0;
		String broken = null;
		while (broken == null && sent < 1_000_000) {
			broken = this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, 2000);
			sent++;
		}
		assertThat(broken).isEqualTo(FrameFloodGuard.WINDOW_UPDATE_FRAMES);
		assertThat(sent).isEqualTo(100 + 10 * 1000 + 1);
	}

	@Test
	void windowUpdatesAnsweringTheServersDataAreAllowedOverAConnectionsLife() {
		int stream = open(this.guard, 0);
		for (long i = 0; i < 1_000_000; i++) {
			this.guard.outbound(TYPE_DATA, 0, stream);
			// a stream's and the connection's window, for each DATA frame: twice what C-core does
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, stream, i)).isNull();
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, i)).isNull();
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, i)).isNull();
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, i)).isNull();
		}
	}

	/**
	 * gRPC C-core (Python's grpcio 1.51) at 250 calls/s answered trailers-only: one
	 * WINDOW_UPDATE per stream although no DATA flows back, two with a DATA answer. Here
	 * 100 000 streams with three per stream, some answered with DATA, and C-core's habit of
	 * cancelling a few.
	 */
	@Test
	void theCCoreShapePassesForAHundredThousandStreams() {
		long now = 0;
		this.guard.outbound(TYPE_SETTINGS, 0, 0);
		assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, now)).as("the connection window at start").isNull();
		for (int i = 0; i < 100_000; i++) {
			now += 4 * MILLI;
			int stream = open(this.guard, now);
			assertThat(this.guard.inbound(TYPE_DATA, FLAG_END_STREAM, 5, stream, now)).isNull();
			for (int w = 0; w < 3; w++) {
				assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, (w == 0) ? stream : 0, now)).isNull();
			}
			if (i % 2 == 0) {
				this.guard.outbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, stream);
			}
			else {
				this.guard.outbound(TYPE_HEADERS, END_HEADERS, stream);
				this.guard.outbound(TYPE_DATA, 0, stream);
				this.guard.outbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, stream);
				assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, stream, now)).isNull();
			}
			if (i % 1000 == 0) {
				assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, stream, now)).as("a late cancel").isNull();
			}
		}
	}

	/**
	 * One backend connection of a proxy carrying 20 clients, for 10 minutes at a tick of 10 ms:
	 * 800 calls/s with DATA, 40 trailers-only errors/s, 100 server streams/s cancelled after
	 * their first message, 100 unary calls/s cancelled before any answer (deadlines, hedging),
	 * 2.5 WINDOW_UPDATEs per stream (HAProxy's measured ratio) plus one per DATA frame.
	 */
	@Test
	void aProxysAggregatePasses() {
		long now = 0;
		int previous = 0;
		for (int tick = 0; tick < 60_000; tick++) {
			now += 10 * MILLI;
			for (int i = 0; i < 8; i++) {
				int stream = call(now);
				this.guard.outbound(TYPE_HEADERS, END_HEADERS, stream);
				this.guard.outbound(TYPE_DATA, 0, stream);
				this.guard.outbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, stream);
				windowUpdates(stream, (i % 2 == 0) ? 4 : 3, now);
			}
			if (tick % 5 < 2) {
				int stream = call(now);
				this.guard.outbound(TYPE_HEADERS, FLAG_END_STREAM | END_HEADERS, stream);
				windowUpdates(stream, 2, now);
			}
			int answered = call(now);
			this.guard.outbound(TYPE_HEADERS, END_HEADERS, answered);
			this.guard.outbound(TYPE_DATA, 0, answered);
			windowUpdates(answered, 2, now);
			assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, answered, now)).isNull();
			if (previous != 0) {
				assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, previous, now)).as("cancelled 10 ms later").isNull();
			}
			previous = call(now);
			windowUpdates(previous, 1, now);
		}
	}

	/**
	 * 64 grpc-java callers whose 10 ms deadlines all expire before the server answers: about
	 * 2400 client resets a second measured on one connection, and the server's own deadline
	 * cancels some streams first. Here 5000 a second for a minute, every call reset 10 ms
	 * after it opened.
	 */
	@Test
	void aDeadlineStormPasses() {
		int[][] open = new int[10][5];
		long now = 0;
		for (int tick = 0; tick < 60_000; tick++) {
			now += MILLI;
			int[] expiring = open[tick % 10];
			for (int i = 0; i < 5; i++) {
				if (expiring[i] != 0) {
					if (i == 0) {
						assertThat(this.guard.resetSent(expiring[i], FrameFloodGuard.CANCEL, now)).isNull();
					}
					assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, expiring[i], now)).isNull();
				}
				expiring[i] = call(now);
			}
		}
	}

	@Test
	void resetsOfAnsweredStreamsNeverCount() {
		for (int i = 0; i < 100_000; i++) {
			int stream = open(this.small, 0);
			this.small.outbound(TYPE_HEADERS, END_HEADERS, stream);
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, stream, 0)).isNull();
		}
	}

	@Test
	void rapidResetIsCutAfterTheLimit() {
		for (int i = 0; i < 1000; i++) {
			int stream = open(this.guard, 0);
			assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, stream, 0)).isNull();
		}
		int stream = open(this.guard, 0);
		assertThat(this.guard.inbound(TYPE_RST_STREAM, 0, 4, stream, 0)).isEqualTo(FrameFloodGuard.PREMATURE_RESETS);
	}

	@Test
	void aResetAfterTheFirstMillisecondIsLeftToGrpcJava() {
		for (int i = 0; i < 100_000; i++) {
			long opened = i * MILLI;
			int stream = open(this.small, opened);
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, stream, opened + MILLI)).isNull();
		}
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, 0), MILLI / 2)).isNull();
		}
		assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, 0), MILLI / 2))
			.as("within the first millisecond")
			.isEqualTo(FrameFloodGuard.PREMATURE_RESETS);
	}

	@Test
	void aNewWindowForgetsPrematureResets() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, 0), 0)).isNull();
		}
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, WINDOW), WINDOW)).isNull();
		}
		assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, WINDOW), WINDOW))
			.isEqualTo(FrameFloodGuard.PREMATURE_RESETS);
	}

	@Test
	void aStreamFloodIsCutAtTheSameLimitByTheStreamsTheServerRefused() {
		for (int i = 0; i < 1000; i++) {
			assertThat(this.guard.resetSent(open(this.guard, 0), FrameFloodGuard.REFUSED_STREAM, 0)).isNull();
		}
		assertThat(this.guard.resetSent(open(this.guard, 0), FrameFloodGuard.REFUSED_STREAM, 0))
			.isEqualTo(FrameFloodGuard.PREMATURE_RESETS);
	}

	@Test
	void aResetRepeatedOnTheSameStreamCountsOnce() {
		int stream = open(this.small, 0);
		for (int i = 0; i < 100; i++) {
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, stream, 0)).isNull();
		}
	}

	/**
	 * A pause of the server (GC, a loaded machine) makes a deadline storm's frames arrive
	 * together, as if no time had passed: each caller's reset, then its next call.
	 */
	@Test
	void aDeadlineStormWhoseFramesArriveTogetherPasses() {
		int[] streams = new int[64];
		for (int i = 0; i < 64; i++) {
			streams[i] = open(this.small, 0);
		}
		for (int batch = 1; batch < 10_000; batch++) {
			for (int i = 0; i < 64; i++) {
				assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, streams[i], batch)).isNull();
				streams[i] = open(this.small, batch);
			}
		}
	}

	@Test
	void aSingleCallerResettingEachCallAtOnceIsRapidReset() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, i), i)).isNull();
		}
		assertThat(this.small.inbound(TYPE_RST_STREAM, 0, 4, open(this.small, 3), 3))
			.isEqualTo(FrameFloodGuard.PREMATURE_RESETS);
	}

	@Test
	void aLimitTurnedOffNeverBreaks() {
		Fed off = new Fed(new FrameFloodLimits(WINDOW, FrameFloodLimits.OFF, FrameFloodLimits.OFF,
				FrameFloodLimits.OFF, FrameFloodLimits.OFF, 0, FrameFloodLimits.OFF));
		for (int i = 0; i < 10_000; i++) {
			int stream = 2 * i + 1;
			assertThat(off.unsolicitedPingAck(i)).isNull();
			assertThat(off.inbound(TYPE_SETTINGS, 0, 0, 0, i)).isNull();
			assertThat(off.inbound(TYPE_HEADERS, END_HEADERS, 10, stream, i)).isNull();
			assertThat(off.inbound(TYPE_DATA, 0, 0, stream, i)).isNull();
			assertThat(off.inbound(TYPE_WINDOW_UPDATE, 0, 4, 0, i)).isNull();
			assertThat(off.inbound(TYPE_RST_STREAM, 0, 4, stream, i)).isNull();
			assertThat(off.resetSent(stream, FrameFloodGuard.REFUSED_STREAM, i)).isNull();
		}
	}

	/** The client opens its next stream. */
	private int open(Fed target, long nanos) {
		int stream = this.nextStream;
		this.nextStream += 2;
		assertThat(target.inbound(TYPE_HEADERS, END_HEADERS, 20, stream, nanos)).isNull();
		return stream;
	}

	/** A unary call on the default guard: HEADERS, then the request's DATA with END_STREAM. */
	private int call(long nanos) {
		int stream = open(this.guard, nanos);
		assertThat(this.guard.inbound(TYPE_DATA, FLAG_END_STREAM, 12, stream, nanos)).isNull();
		return stream;
	}

	private void windowUpdates(int stream, int count, long nanos) {
		for (int i = 0; i < count; i++) {
			assertThat(this.guard.inbound(TYPE_WINDOW_UPDATE, 0, 4, (i == 0) ? stream : 0, nanos)).isNull();
		}
	}

	/**
	 * A guard fed as {@link FrameObserver} feeds it: the observer tracks the highest stream the
	 * client opened (HEADERS above it) and passes it with each frame.
	 */
	private static final class Fed {

		private final FrameFloodGuard guard;

		private int highestClientStream;

		Fed(FrameFloodLimits limits) {
			this.guard = limits.newGuard();
		}

		@Nullable String inbound(int type, int flags, int length, int streamId, long nanos) {
			int previous = this.highestClientStream;
			if (type == TYPE_HEADERS && streamId > previous) {
				this.highestClientStream = streamId;
			}
			return this.guard.inbound(type, flags, length, streamId, previous, nanos);
		}

		void outbound(int type, int flags, int streamId) {
			this.guard.outbound(type, flags, streamId, this.highestClientStream);
		}

		@Nullable String resetSent(int streamId, long errorCode, long nanos) {
			return this.guard.resetSent(streamId, errorCode, this.highestClientStream, nanos);
		}

		@Nullable String unsolicitedPingAck(long nanos) {
			return this.guard.unsolicitedPingAck(nanos);
		}

	}

}
