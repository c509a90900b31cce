package dev.grpckeepalive.connection;

import java.util.EnumMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * PING counts and round-trip times, for one connection or added up over many; read-only to
 * the application. Two kinds, both safe for concurrent writers: a connection's own (small, as
 * there is one per connection) and the totals of a server or channel (striped, as every
 * connection's event loop writes them).
 * Each writer records a round trip before it counts the ACK, so that a reader that sees the
 * ACK also sees its round trip.
 */
public abstract sealed class PingStatistics permits ConnectionPings, PingTotals {

	PingStatistics() {
	}

	abstract void recordSent(PingKind kind);

	abstract void recordAck(long roundTripNanos);

	abstract void recordReceived();

	abstract void recordTimeout();

	/** PINGs this side originated. */
	public long sent() {
		long sent = 0;
		for (PingKind kind : PingKind.values()) {
			sent += sent(kind);
		}
		return sent;
	}

	/** PINGs this side originated of one kind. */
	public abstract long sent(PingKind kind);

	/** ACKs received for PINGs this side originated. */
	public abstract long acked();

	/** PINGs the peer originated. */
	public abstract long received();

	/** Keepalive PINGs not acknowledged within the keepalive timeout. */
	public abstract long timeouts();

	/** The last round trip, {@code -1} before the first. */
	abstract long rttLastNanos();

	/** The shortest round trip, {@link Long#MAX_VALUE} before the first. */
	abstract long rttMinNanos();

	/** The longest round trip, {@code -1} before the first. */
	abstract long rttMaxNanos();

	/** All round trips added up. */
	abstract long rttTotalNanos();

	/** A consistent-enough copy for reporting. */
	public Snapshot snapshot() {
		Map<PingKind, Long> byKind = new EnumMap<>(PingKind.class);
		long sent = 0;
		for (PingKind kind : PingKind.values()) {
			long ofKind = sent(kind);
			byKind.put(kind, ofKind);
			sent += ofKind;
		}
		// the count first: the round trips it counts are recorded already
		long count = acked();
		RoundTrip rtt = (count == 0) ? null
				: new RoundTrip(millis(rttLastNanos()), millis(rttMinNanos()), millis(rttTotalNanos()) / count,
						millis(rttMaxNanos()));
		return new Snapshot(sent, byKind, count, received(), timeouts(), rtt);
	}

	private static double millis(long nanos) {
		return nanos / 1_000_000.0;
	}

	/**
	 * PING figures at one moment.
	 *
	 * @param sent PINGs this side originated
	 * @param sentByKind the same, by what grpc-java sent them for
	 * @param acked ACKs received for PINGs this side originated
	 * @param received PINGs the peer originated
	 * @param timeouts keepalive PINGs not acknowledged within the keepalive timeout
	 * @param rttMillis round-trip times from PING to ACK, or {@code null} before the first ACK
	 */
	public record Snapshot(long sent, Map<PingKind, Long> sentByKind, long acked, long received, long timeouts,
			@Nullable RoundTrip rttMillis) {
	}

	/** Round-trip times in milliseconds. */
	public record RoundTrip(double last, double min, double mean, double max) {
	}

}
