package dev.grpckeepalive.connection;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * PING counts and round-trip times, for one connection or added up over many. Safe for
 * concurrent writers; pings are rare enough (seconds apart per connection) that the cost
 * of atomics does not matter.
 */
public final class PingStatistics {

	private final LongAdder[] sent = new LongAdder[PingKind.values().length];

	private final LongAdder acked = new LongAdder();

	private final LongAdder received = new LongAdder();

	private final LongAdder timeouts = new LongAdder();

	private final LongAdder rttCount = new LongAdder();

	private final LongAdder rttTotalNanos = new LongAdder();

	private final AtomicLong rttLastNanos = new AtomicLong(-1);

	private final AtomicLong rttMinNanos = new AtomicLong(Long.MAX_VALUE);

	private final AtomicLong rttMaxNanos = new AtomicLong(-1);

	public PingStatistics() {
		for (int i = 0; i < this.sent.length; i++) {
			this.sent[i] = new LongAdder();
		}
	}

	void recordSent(PingKind kind) {
		this.sent[kind.ordinal()].increment();
	}

	void recordAck(long roundTripNanos) {
		this.acked.increment();
		this.rttCount.increment();
		this.rttTotalNanos.add(roundTripNanos);
		this.rttLastNanos.set(roundTripNanos);
		this.rttMinNanos.accumulateAndGet(roundTripNanos, Math::min);
		this.rttMaxNanos.accumulateAndGet(roundTripNanos, Math::max);
	}

	void recordReceived() {
		this.received.increment();
	}

	void recordTimeout() {
		this.timeouts.increment();
	}

	public long sent() {
		long total = 0;
		for (LongAdder adder : this.sent) {
			total += adder.sum();
		}
		return total;
	}

	public long sent(PingKind kind) {
		return this.sent[kind.ordinal()].sum();
	}

	public long acked() {
		return this.acked.sum();
	}

	public long received() {
		return this.received.sum();
	}

	public long timeouts() {
		return this.timeouts.sum();
	}

	/** A consistent-enough copy for reporting. */
	public Snapshot snapshot() {
		Map<PingKind, Long> byKind = new EnumMap<>(PingKind.class);
		for (PingKind kind : PingKind.values()) {
			byKind.put(kind, sent(kind));
		}
		long count = this.rttCount.sum();
		RoundTrip rtt = (count == 0) ? null
				: new RoundTrip(millis(this.rttLastNanos.get()), millis(this.rttMinNanos.get()),
						millis(this.rttTotalNanos.sum()) / count, millis(this.rttMaxNanos.get()));
		return new Snapshot(sent(), byKind, acked(), received(), timeouts(), rtt);
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
			RoundTrip rttMillis) {
	}

	/** Round-trip times in milliseconds. */
	public record RoundTrip(double last, double min, double mean, double max) {
	}

}
