package dev.grpckeepalive.connection;

import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The PING figures of a server's or a channel's connections added up. Every connection's
 * event loop writes them, so each figure is striped ({@link LongAdder},
 * {@link LongAccumulator}): writers on different event loops do not contend, and readers
 * (the endpoint, the meters) add the stripes up. The last round trip is one plain volatile
 * field: a write, no compare-and-set.
 */
final class PingTotals extends PingStatistics {

	private final LongAdder[] sent = new LongAdder[PingKind.values().length];

	private final LongAdder acked = new LongAdder();

	private final LongAdder received = new LongAdder();

	private final LongAdder timeouts = new LongAdder();

	private final LongAdder rttTotalNanos = new LongAdder();

	private final LongAccumulator rttMinNanos = new LongAccumulator(Math::min, Long.MAX_VALUE);

	private final LongAccumulator rttMaxNanos = new LongAccumulator(Math::max, -1);

	private volatile long rttLastNanos = -1;

	PingTotals() {
		for (int i = 0; i < this.sent.length; i++) {
			this.sent[i] = new LongAdder();
		}
	}

	@Override
	void recordSent(PingKind kind) {
		this.sent[kind.ordinal()].increment();
	}

	@Override
	void recordAck(long roundTripNanos) {
		this.rttTotalNanos.add(roundTripNanos);
		this.rttLastNanos = roundTripNanos;
		this.rttMinNanos.accumulate(roundTripNanos);
		this.rttMaxNanos.accumulate(roundTripNanos);
		// counted last, so that a reader that sees the ACK also sees its round trip
		this.acked.increment();
	}

	@Override
	void recordReceived() {
		this.received.increment();
	}

	@Override
	void recordTimeout() {
		this.timeouts.increment();
	}

	@Override
	public long sent(PingKind kind) {
		return this.sent[kind.ordinal()].sum();
	}

	@Override
	public long acked() {
		return this.acked.sum();
	}

	@Override
	public long received() {
		return this.received.sum();
	}

	@Override
	public long timeouts() {
		return this.timeouts.sum();
	}

	@Override
	long rttLastNanos() {
		return this.rttLastNanos;
	}

	@Override
	long rttMinNanos() {
		return this.rttMinNanos.get();
	}

	@Override
	long rttMaxNanos() {
		return this.rttMaxNanos.get();
	}

	@Override
	long rttTotalNanos() {
		return this.rttTotalNanos.sum();
	}

}
