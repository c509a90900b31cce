package dev.grpckeepalive.connection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One connection's PING figures. Plain {@code long} fields updated through
 * {@link VarHandle}s keep a connection's share small (about 100 bytes), since there is one
 * of these per connection; its writers are the connection's event loop, so they never contend.
 */
final class ConnectionPings extends PingStatistics {

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
			return MethodHandles.lookup().findVarHandle(ConnectionPings.class, field, long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	@Override
	void recordSent(PingKind kind) {
		sentHandle(kind).getAndAdd(this, 1L);
	}

	@Override
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

	@Override
	void recordReceived() {
		RECEIVED.getAndAdd(this, 1L);
	}

	@Override
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

	@Override
	public long sent(PingKind kind) {
		return (long) sentHandle(kind).getVolatile(this);
	}

	@Override
	public long acked() {
		return this.acked;
	}

	@Override
	public long received() {
		return this.received;
	}

	@Override
	public long timeouts() {
		return this.timeouts;
	}

	@Override
	long rttLastNanos() {
		return this.rttLastNanos;
	}

	@Override
	long rttMinNanos() {
		return this.rttMinNanos;
	}

	@Override
	long rttMaxNanos() {
		return this.rttMaxNanos;
	}

	@Override
	long rttTotalNanos() {
		return this.rttTotalNanos;
	}

}
