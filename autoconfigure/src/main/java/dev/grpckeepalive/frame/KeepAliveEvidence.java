package dev.grpckeepalive.frame;

import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.PingKind;

/**
 * What one connection's frames say about keepalive, for the advisor: the strikes grpc-java's
 * {@code KeepAliveEnforcer} counts against the client's PINGs (server side), and how long
 * this side was idle before each keepalive PING it sent (client side). A few fields, written
 * on the connection's event loop only, without locks or allocation; the observer calls it.
 *
 * <p>The enforcer, as grpc-java 1.84 has it: a PING is valid when it comes at least
 * permit-time after the last valid one (2h instead when the connection has no calls and
 * permit-without-calls is off), the first measured from when the connection opened; an
 * invalid PING is a strike; HEADERS or DATA the server sends reset the strikes and put the
 * last valid PING back to when the connection opened; more than {@value #MAX_PING_STRIKES}
 * strikes and the server sends GOAWAY {@code too_many_pings}.
 */
final class KeepAliveEvidence {

	/** grpc-java's {@code KeepAliveEnforcer.MAX_PING_STRIKES}. */
	static final int MAX_PING_STRIKES = 2;

	/** grpc-java's {@code KeepAliveEnforcer.IMPLICIT_PERMIT_TIME_NANOS}: 2h. */
	static final long IMPLICIT_PERMIT_TIME_NANOS = 2L * 3600 * 1_000_000_000L;

	private final long openedNanos;

	private long lastValidPingNanos;

	private int strikes;

	/** When the peer's last PING came, or the server last sent HEADERS or DATA, whichever was later. */
	private long intervalStartNanos;

	/** When this side last read a frame. */
	private long lastInboundNanos;

	KeepAliveEvidence(long nowNanos) {
		this.openedNanos = nowNanos;
		this.lastValidPingNanos = nowNanos;
		this.intervalStartNanos = nowNanos;
		this.lastInboundNanos = nowNanos;
	}

	/** This side read a frame. */
	void inbound(long nowNanos) {
		this.lastInboundNanos = nowNanos;
	}

	/** The server sent HEADERS or DATA: grpc-java's {@code KeepAliveEnforcer.resetCounters()}. */
	void headersOrDataSent(long nowNanos) {
		this.lastValidPingNanos = this.openedNanos;
		this.strikes = 0;
		this.intervalStartNanos = nowNanos;
	}

	/** The client sent a PING to this server: judged as grpc-java's enforcer judges it. */
	void peerPing(ConnectionRecord record, ConnectionTracker tracker, PingKind kind, long nowNanos) {
		boolean withoutCalls = record.activeCalls() == 0;
		boolean strike = !acceptable(nowNanos, withoutCalls, tracker.permitTimeNanos(), tracker.permitWithoutCalls());
		long interval = nowNanos - this.intervalStartNanos;
		this.intervalStartNanos = nowNanos;
		record.peerPingObserved(kind, interval, withoutCalls, strike, this.strikes);
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
