package dev.grpckeepalive.transport;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.SilenceBeforeClose;

/**
 * What one connection's frames say about keepalive, for the advisor: the strikes grpc-java's
 * {@code KeepAliveEnforcer} counts against the client's PINGs (server side), how long
 * this side was idle before each keepalive PING it sent (client side), and the silences (no
 * frame either way) the connection survived and the one it ended with. A few fields, written
 * on the connection's event loop only, without locks or allocation; the observer calls it,
 * with the time it reads anyway on each read and once per flush.
 *
 * <p>The enforcer, as grpc-java 1.84 has it: a PING is valid when it comes at least
 * permit-time after the last valid one (2h instead when the connection has no calls and
 * permit-without-calls is off), the first measured from when the connection opened; an
 * invalid PING is a strike; HEADERS or DATA the server sends reset the strikes and put the
 * last valid PING back to when the connection opened; more than {@value #MAX_PING_STRIKES}
 * strikes and the server sends GOAWAY {@code too_many_pings}.
 */
final class KeepAliveEvidence implements SilenceBeforeClose.Probe {

	/** grpc-java's {@code KeepAliveEnforcer.MAX_PING_STRIKES}. */
	static final int MAX_PING_STRIKES = 2;

	/** The shortest silence (no frame either way) reported to the advisor: shorter ones are traffic. */
	static final long MIN_SILENCE_NANOS = 1_000_000_000L;

	/**
	 * How soon after the server's DATA a C-core client's PING counts as its BDP PING: the
	 * client sends it as it reads the DATA, one round trip later; a second covers a slow path.
	 */
	static final long GRPC_CORE_BDP_WINDOW_NANOS = 1_000_000_000L;

	/** grpc-java's {@code KeepAliveEnforcer.IMPLICIT_PERMIT_TIME_NANOS}: 2h. */
	static final long IMPLICIT_PERMIT_TIME_NANOS = 2L * 3600 * 1_000_000_000L;

	private final long openedNanos;

	private long lastValidPingNanos;

	private int strikes;

	/** When the peer's last PING came, or the server last sent HEADERS or DATA, whichever was later. */
	private long intervalStartNanos;

	/** When the server last sent DATA. */
	private long lastDataSentNanos;

	/** Whether the server sent DATA since the client's last PING. */
	private boolean dataSincePeerPing;

	/** When this side last read a frame. */
	private long lastInboundNanos;

	/** When this side last flushed frames it wrote. */
	private long lastOutboundNanos;

	/**
	 * The silence a write of this side ended, while the peer has not answered it (0 when
	 * none): it survived when an answer comes, it killed when the connection dies first.
	 */
	private long unansweredSilenceNanos;

	/** When the write that ended {@link #unansweredSilenceNanos} was flushed. */
	private long unansweredSinceNanos;

	private boolean unansweredWithCalls;

	KeepAliveEvidence(long nowNanos) {
		this.openedNanos = nowNanos;
		this.lastValidPingNanos = nowNanos;
		this.intervalStartNanos = nowNanos;
		this.lastInboundNanos = nowNanos;
		this.lastOutboundNanos = nowNanos;
	}

	/** When the connection last carried a frame, in either direction. */
	private long lastFrameNanos() {
		return (this.lastOutboundNanos - this.lastInboundNanos > 0) ? this.lastOutboundNanos : this.lastInboundNanos;
	}

	/**
	 * This side read bytes: a silence that ended with them, or with this side's write they
	 * answer, survived. Reported to the record only for silences of {@link #MIN_SILENCE_NANOS}
	 * or more.
	 * @param record the connection's record, or {@code null} before it has one
	 */
	void inbound(@Nullable ConnectionRecord record, long nowNanos) {
		if (this.unansweredSilenceNanos != 0) {
			if (record != null) {
				record.silenceSurvived(this.unansweredSilenceNanos, this.unansweredWithCalls);
			}
			this.unansweredSilenceNanos = 0;
		}
		else {
			long last = lastFrameNanos();
			if (nowNanos - last >= MIN_SILENCE_NANOS && record != null) {
				record.silenceSurvived(nowNanos - last, record.callsThroughout(last));
			}
		}
		this.lastInboundNanos = nowNanos;
	}

	/** This side flushed frames it wrote: a silence of a second or more that it ends waits for the peer's answer. */
	void outbound(ConnectionRecord record, long nowNanos) {
		long last = lastFrameNanos();
		if (this.unansweredSilenceNanos == 0 && nowNanos - last >= MIN_SILENCE_NANOS) {
			this.unansweredSilenceNanos = nowNanos - last;
			this.unansweredSinceNanos = nowNanos;
			this.unansweredWithCalls = record.callsThroughout(last);
		}
		this.lastOutboundNanos = nowNanos;
	}

	/**
	 * The silence the connection ended with, at its close: the silence before this side's
	 * last unanswered write when the connection died right after that write (within
	 * {@link #MIN_SILENCE_NANOS}: a reset on the first write) or when a keepalive PING timed
	 * out; else the silence up to the close. {@code null} when under {@link #MIN_SILENCE_NANOS}.
	 */
	@Override
	public @Nullable SilenceBeforeClose at(ConnectionRecord record, long nowNanos, CloseReason reason) {
		if (this.unansweredSilenceNanos != 0 && (reason == CloseReason.KEEPALIVE_TIMEOUT
				|| nowNanos - this.unansweredSinceNanos < MIN_SILENCE_NANOS)) {
			return new SilenceBeforeClose(this.unansweredSilenceNanos, true, this.unansweredWithCalls);
		}
		long last = lastFrameNanos();
		if (nowNanos - last < MIN_SILENCE_NANOS) {
			return null;
		}
		return new SilenceBeforeClose(nowNanos - last, false, record.callsThroughout(last));
	}

	/**
	 * The server sent HEADERS or DATA: grpc-java's {@code KeepAliveEnforcer.resetCounters()}.
	 * @param data whether it was DATA, which a C-core client answers with a BDP PING
	 */
	void headersOrDataSent(long nowNanos, boolean data) {
		this.lastValidPingNanos = this.openedNanos;
		this.strikes = 0;
		this.intervalStartNanos = nowNanos;
		if (data) {
			this.lastDataSentNanos = nowNanos;
			this.dataSincePeerPing = true;
		}
	}

	/** The client sent a PING to this server: judged as grpc-java's enforcer judges it. */
	void peerPing(ConnectionRecord record, ConnectionTracker tracker, PingKind payloadKind, long nowNanos) {
		PingKind kind = (payloadKind == PingKind.OTHER && isGrpcCoreBdpPing(record, nowNanos)) ? PingKind.BDP
				: payloadKind;
		this.dataSincePeerPing = false;
		boolean withoutCalls = record.activeCalls() == 0;
		boolean strike = !acceptable(nowNanos, withoutCalls, tracker.pingPolicy().permitTimeNanos(),
				tracker.pingPolicy().permitWithoutCalls());
		long interval = nowNanos - this.intervalStartNanos;
		this.intervalStartNanos = nowNanos;
		record.peerPingObserved(kind, interval, withoutCalls, strike, this.strikes);
	}

	/**
	 * gRPC C-core numbers its PINGs (0, 1, 2, ...), so its BDP PINGs are told by behaviour: it
	 * sends one when it reads DATA and has none outstanding. A C-core client's PING that is its
	 * first since DATA this server sent, within {@link #GRPC_CORE_BDP_WINDOW_NANOS} of that
	 * DATA, is taken as one. A keepalive PING that happens to come then is taken as one too,
	 * which only leaves an interval unmeasured: the DATA excused it anyway.
	 */
	private boolean isGrpcCoreBdpPing(ConnectionRecord record, long nowNanos) {
		return this.dataSincePeerPing && nowNanos - this.lastDataSentNanos <= GRPC_CORE_BDP_WINDOW_NANOS
				&& record.isGrpcCore();
	}

	/** grpc-java's {@code KeepAliveEnforcer.pingAcceptable()}, without the GOAWAY. */
	boolean acceptable(long nowNanos, boolean withoutCalls, long permitTimeNanos, boolean permitWithoutCalls) {
		long minTime = (withoutCalls && !permitWithoutCalls) ? IMPLICIT_PERMIT_TIME_NANOS
				: Math.min(permitTimeNanos, IMPLICIT_PERMIT_TIME_NANOS);
		if (this.lastValidPingNanos + minTime - nowNanos <= 0) {
			this.lastValidPingNanos = nowNanos;
			return true;
		}
		this.strikes++;
		return false;
	}

	int strikes() {
		return this.strikes;
	}

	/** This side sent a keepalive PING. */
	void keepAlivePingSent(ConnectionRecord record, long nowNanos) {
		record.keepAlivePingSentObserved(nowNanos - this.lastInboundNanos);
	}

}
