package dev.grpckeepalive.transport;

import dev.grpckeepalive.connection.PingKind;

/**
 * The PINGs one side of a connection has outstanding, one per {@link PingKind} (grpc-java
 * never has two of a kind in flight): when each was sent, its round trip when the ACK comes,
 * and whether the keepalive PING has timed out. Event loop only; plain fields.
 *
 * <p>A PING counts as sent when the write that carries it is flushed, with the flush's time:
 * that is when its bytes leave. A PING written but not yet flushed is <em>unflushed</em>: it
 * cannot have timed out, and an ACK cannot be for it (the peer has not seen it). Should one
 * come anyway (only a peer that acknowledges PINGs it never got, or a flush that never
 * reached this side), it is taken as that PING's, with a round trip of 0, so that the PING
 * does not stay outstanding and time out later. Round trips are never negative, whatever the
 * ticker does.
 */
final class PingTracker {

	/** No PING of the kind outstanding. */
	static final long NONE = Long.MIN_VALUE;

	private static final PingKind[] KINDS = PingKind.values();

	private long keepAliveSentNanos = NONE;

	private long bdpSentNanos = NONE;

	private long shutdownSentNanos = NONE;

	private long otherSentNanos = NONE;

	/** The kinds written since the last flush, a bit per {@link PingKind#ordinal()}. */
	private byte unflushed;

	/** A PING (not an ACK) of {@code kind} was written; it is sent at the next {@link #flushed}. */
	void written(PingKind kind) {
		this.unflushed |= (byte) (1 << kind.ordinal());
	}

	/**
	 * This side flushed: the PINGs written since the last flush are sent at {@code nowNanos}.
	 * @return whether a keepalive PING was among them
	 */
	boolean flushed(long nowNanos) {
		int kinds = this.unflushed;
		if (kinds == 0) {
			return false;
		}
		this.unflushed = 0;
		for (PingKind kind : KINDS) {
			if ((kinds & (1 << kind.ordinal())) != 0) {
				set(kind, nowNanos);
			}
		}
		return (kinds & (1 << PingKind.KEEPALIVE.ordinal())) != 0;
	}

	/**
	 * The peer acknowledged a PING of {@code kind} at {@code nowNanos}.
	 * @return the round trip, at least 0; or {@link #NONE} when no PING of the kind was
	 * outstanding (the ACK is unsolicited)
	 */
	long acked(PingKind kind, long nowNanos) {
		long sent = get(kind);
		if (sent != NONE) {
			set(kind, NONE);
			return Math.max(0, nowNanos - sent);
		}
		int bit = 1 << kind.ordinal();
		if ((this.unflushed & bit) != 0) {
			this.unflushed &= (byte) ~bit;
			return 0;
		}
		return NONE;
	}

	/** Whether a keepalive PING was sent and not acknowledged yet. */
	boolean keepAliveOutstanding() {
		return this.keepAliveSentNanos != NONE;
	}

	/**
	 * Whether the outstanding keepalive PING has been unacknowledged for at least
	 * {@code timeoutNanos} at {@code nowNanos}; {@code false} when none is outstanding.
	 */
	boolean keepAliveOverdue(long nowNanos, long timeoutNanos) {
		long sent = this.keepAliveSentNanos;
		return sent != NONE && nowNanos - sent >= timeoutNanos;
	}

	/** The outstanding keepalive PING timed out and has been counted: it is no longer outstanding. */
	void keepAliveTimeoutCounted() {
		this.keepAliveSentNanos = NONE;
	}

	private long get(PingKind kind) {
		return switch (kind) {
			case KEEPALIVE -> this.keepAliveSentNanos;
			case BDP -> this.bdpSentNanos;
			case SHUTDOWN -> this.shutdownSentNanos;
			case OTHER -> this.otherSentNanos;
		};
	}

	private void set(PingKind kind, long nanos) {
		switch (kind) {
			case KEEPALIVE -> this.keepAliveSentNanos = nanos;
			case BDP -> this.bdpSentNanos = nanos;
			case SHUTDOWN -> this.shutdownSentNanos = nanos;
			case OTHER -> this.otherSentNanos = nanos;
		}
	}

}
