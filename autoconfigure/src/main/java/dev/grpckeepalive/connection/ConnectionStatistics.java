package dev.grpckeepalive.connection;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

import org.jspecify.annotations.Nullable;

/**
 * The totals of one server's or channel's connections: refused and closed connections,
 * PINGs, GOAWAYs, server calls in flight, and when the last keepalive timeout and
 * {@code too_many_pings} happened. Every connection writes them, from its own event loop or
 * call thread, so every count is a {@link LongAdder}: writers do not contend and nothing
 * locks; readers (the endpoint, the meters, health) add up the stripes, which makes a total
 * read while it moves a close approximation rather than an instant.
 */
final class ConnectionStatistics {

	private static final CloseReason[] REASONS = CloseReason.values();

	/** One slot per close reason, and the last for {@link GoAway#OTHER}. */
	private static final int GOAWAY_TAGS = REASONS.length + 1;

	private final LongAdder refused = new LongAdder();

	private final LongAdder[] closed = adders(REASONS.length);

	private final PingTotals pings = new PingTotals();

	private final LongAdder[][] goAways = new LongAdder[GoAway.Direction.values().length][];

	/** Server calls in flight over all connections; a channel counts its calls in {@link ChannelCalls}. */
	private final LongAdder serverCalls = new LongAdder();

	private volatile long lastKeepAliveTimeoutNanos = Long.MIN_VALUE;

	private volatile long lastTooManyPingsNanos = Long.MIN_VALUE;

	private volatile boolean framesObserved;

	ConnectionStatistics() {
		for (int i = 0; i < this.goAways.length; i++) {
			this.goAways[i] = adders(GOAWAY_TAGS);
		}
	}

	private static LongAdder[] adders(int count) {
		LongAdder[] adders = new LongAdder[count];
		for (int i = 0; i < count; i++) {
			adders[i] = new LongAdder();
		}
		return adders;
	}

	void refused() {
		this.refused.increment();
	}

	long refusedCount() {
		return this.refused.sum();
	}

	void closed(CloseReason reason, long nowNanos) {
		this.closed[reason.ordinal()].increment();
		if (reason == CloseReason.TOO_MANY_PINGS) {
			this.lastTooManyPingsNanos = nowNanos;
		}
	}

	long closedCount(CloseReason reason) {
		return this.closed[reason.ordinal()].sum();
	}

	PingTotals pings() {
		return this.pings;
	}

	void keepAliveTimedOut(long nowNanos) {
		this.pings.recordTimeout();
		this.lastKeepAliveTimeoutNanos = nowNanos;
	}

	void goAway(GoAway goAway, long nowNanos) {
		CloseReason reason = goAway.reason();
		this.goAways[goAway.direction().ordinal()][(reason != null) ? reason.ordinal() : REASONS.length].increment();
		if (reason == CloseReason.TOO_MANY_PINGS) {
			this.lastTooManyPingsNanos = nowNanos;
		}
	}

	/** The GOAWAYs of one direction by reason tag, the tags seen only, sorted. */
	Map<String, Long> goAways(GoAway.Direction direction) {
		Map<String, Long> result = new TreeMap<>();
		LongAdder[] counts = this.goAways[direction.ordinal()];
		for (int slot = 0; slot < GOAWAY_TAGS; slot++) {
			long count = counts[slot].sum();
			if (count > 0) {
				result.put(GoAway.reasonTag(reasonOf(slot)), count);
			}
		}
		return Collections.unmodifiableMap(result);
	}

	private static @Nullable CloseReason reasonOf(int slot) {
		return (slot < REASONS.length) ? REASONS[slot] : null;
	}

	long goAwayCount(GoAway.Direction direction, String reasonTag) {
		int slot = slotOf(reasonTag);
		return (slot >= 0) ? this.goAways[direction.ordinal()][slot].sum() : 0;
	}

	private static int slotOf(String reasonTag) {
		if (GoAway.OTHER.equals(reasonTag)) {
			return REASONS.length;
		}
		for (CloseReason reason : REASONS) {
			if (reason.tag().equals(reasonTag)) {
				return reason.ordinal();
			}
		}
		return -1;
	}

	void serverCallStarted() {
		this.serverCalls.increment();
	}

	void serverCallEnded() {
		this.serverCalls.decrement();
	}

	/**
	 * Server calls in flight. Added up while calls start and end elsewhere, the stripes can
	 * hold an end whose start they missed: never below 0.
	 */
	int serverCalls() {
		return (int) Math.max(0, this.serverCalls.sum());
	}

	long lastKeepAliveTimeoutNanos() {
		return this.lastKeepAliveTimeoutNanos;
	}

	long lastTooManyPingsNanos() {
		return this.lastTooManyPingsNanos;
	}

	void framesObserved() {
		this.framesObserved = true;
	}

	boolean isFramesObserved() {
		return this.framesObserved;
	}

}
