package dev.grpckeepalive.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * PING counts and round-trip times, for one connection or added up over many. Safe for
 * concurrent writers. Plain {@code long} fields updated through {@link VarHandle}s keep a
 * connection's share small (about 130 bytes), since there is one of these per connection.
 */
public final class PingStatistics {

	private static final VarHandle SENT_KEEPALIVE = handle("sentKeepAlive");

	private static final VarHandle SENT_BDP = handle("sentBdp");

	private static final VarHandle SENT_SHUTDOWN = handle("sentShutdown");

	private static final VarHandle SENT_OTHER = handle("sentOther");

	private static final VarHandle ACKED = handle("acked");

	private static final VarHandle RECEIVED = handle("received");

	private static final VarHandle TIMEOUTS = handle("timeouts");

	private static final VarHandle RTT_TOTAL = handle("rttTotalNanos");

	private static final VarHandle RTT_MIN = handle("rttMinNanos");

	private static final VarHandle RTT_MAX = handle("rttMaxNanos");

	private volatile long sentKeepAlive;

	private volatile long sentBdp;

	private volatile long sentShutdown;

	private volatile long sentOther;

	private volatile long acked;

	private volatile long received;

	private volatile long timeouts;

	private volatile long rttTotalNanos;

	private volatile long rttLastNanos = -1;

	private volatile long rttMinNanos = Long.MAX_VALUE;

	private volatile long rttMaxNanos = -1;

	private static VarHandle handle(String field) {
		try {
			return MethodHandles.lookup().findVarHandle(PingStatistics.class, field, long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	void recordSent(PingKind kind) {
		sentHandle(kind).getAndAdd(this, 1L);
	}

	void recordAck(long roundTripNanos) {
		RTT_TOTAL.getAndAdd(this, roundTripNanos);
		this.rttLastNanos = roundTripNanos;
		accumulate(RTT_MIN, roundTripNanos, true);
		accumulate(RTT_MAX, roundTripNanos, false);
		// counted last, so that a reader that sees the ACK also sees its round trip
		ACKED.getAndAdd(this, 1L);
	}

	private void accumulate(VarHandle handle, long value, boolean min) {
		long current = (long) handle.getVolatile(this);
		while (min ? value < current : value > current) {
			if (handle.compareAndSet(this, current, value)) {
				return;
			}
			current = (long) handle.getVolatile(this);
		}
	}

	void recordReceived() {
		RECEIVED.getAndAdd(this, 1L);
	}

	void recordTimeout() {
		TIMEOUTS.getAndAdd(this, 1L);
	}

	private static VarHandle sentHandle(PingKind kind) {
		return switch (kind) {
			case KEEPALIVE -> SENT_KEEPALIVE;
			case BDP -> SENT_BDP;
			case SHUTDOWN -> SENT_SHUTDOWN;
			case OTHER -> SENT_OTHER;
		};
	}

	public long sent() {
		return this.sentKeepAlive + this.sentBdp + this.sentShutdown + this.sentOther;
	}

	public long sent(PingKind kind) {
		return (long) sentHandle(kind).getVolatile(this);
	}

	public long acked() {
		return this.acked;
	}

	public long received() {
		return this.received;
	}

	public long timeouts() {
		return this.timeouts;
	}

	/** A consistent-enough copy for reporting. */
	public Snapshot snapshot() {
		Map<PingKind, Long> byKind = new EnumMap<>(PingKind.class);
		for (PingKind kind : PingKind.values()) {
			byKind.put(kind, sent(kind));
		}
		long count = this.acked;
		RoundTrip rtt = (count == 0) ? null
				: new RoundTrip(millis(this.rttLastNanos), millis(this.rttMinNanos), millis(this.rttTotalNanos) / count,
						millis(this.rttMaxNanos));
		return new Snapshot(sent(), byKind, count, this.received, this.timeouts, rtt);
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
