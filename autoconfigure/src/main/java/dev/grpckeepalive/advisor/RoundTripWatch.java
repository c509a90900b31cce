package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingKind;

/**
 * Finding {@code timeout_close_to_rtt}: PING round trips (every kind: keepalive and BDP
 * PINGs cross the same path) against the keepalive timeout of the server or of one channel.
 * Every round trip goes into a ring of the latest {@value #CAPACITY} without lock or
 * allocation; only a round trip of at least a quarter of the timeout makes the watch look at
 * the ring: warning when the largest round trip within the window reaches half the timeout,
 * critical from 80% or when a keepalive timeout happened within the window. The suggested
 * timeout is four times the largest round trip.
 */
final class RoundTripWatch implements ConnectionTrackerView.ConnectionListener {

	static final int CAPACITY = 256;

	private final KeepAliveAdvisor advisor;

	private final DurationSetting timeout;

	private final long timeoutNanos;

	private final AtomicLongArray rtts = new AtomicLongArray(CAPACITY);

	private final AtomicLongArray atMillis = new AtomicLongArray(CAPACITY);

	private final AtomicInteger next = new AtomicInteger();

	/**
	 * A watch of one tracker.
	 * @param advisor where findings go
	 * @param timeout the keepalive timeout of the server or channel
	 */
	RoundTripWatch(KeepAliveAdvisor advisor, DurationSetting timeout) {
		this.advisor = advisor;
		this.timeout = timeout;
		this.timeoutNanos = (timeout.effective() != null) ? DurationSetting.saturatedNanos(timeout.effective())
				: Long.MAX_VALUE;
	}

	@Override
	public void pingAcknowledged(ConnectionTrackerView tracker, PingKind kind, long roundTripNanos) {
		long now = this.advisor.clock().millis();
		int slot = Math.floorMod(this.next.getAndIncrement(), CAPACITY);
		this.atMillis.set(slot, 0);
		this.rtts.set(slot, roundTripNanos);
		this.atMillis.set(slot, now);
		if (roundTripNanos >= this.timeoutNanos / 4) {
			evaluate(tracker, now);
		}
	}

	private synchronized void evaluate(ConnectionTrackerView tracker, long now) {
		long since = now - this.advisor.window().toMillis();
		long[] window = new long[CAPACITY];
		int count = 0;
		for (int i = 0; i < CAPACITY; i++) {
			long at = this.atMillis.get(i);
			if (at != 0 && at >= since) {
				window[count++] = this.rtts.get(i);
			}
		}
		long[] sorted = Arrays.copyOf(window, count);
		Arrays.sort(sorted);
		if (count == 0) {
			return;
		}
		long max = sorted[count - 1];
		if (max < this.timeoutNanos / 2) {
			return;
		}
		boolean timedOut = tracker.keepAliveTimeoutWithin(this.advisor.window());
		Severity severity = (timedOut || max >= this.timeoutNanos / 10 * 8) ? Severity.CRITICAL : Severity.WARNING;
		long p99 = Durations.quantile(sorted, 0.99);
		Duration suggested = Durations.ceilNice(Durations.millis(4 * max));

		Evidence evidence = new Evidence.TimeoutCloseToRtt(Durations.text(this.timeout.effective()),
				new Evidence.TimeoutCloseToRtt.RoundTrips(Durations.millis(p99), Durations.millis(max),
						Durations.millis(Durations.median(sorted)), count),
				Math.round(100.0 * this.timeoutNanos / max) / 100.0, timedOut,
				tracker.closedConnections(CloseReason.KEEPALIVE_TIMEOUT));

		Recommendation recommendation = new Recommendation(this.timeout.property(),
				Durations.text(this.timeout.effective()), Durations.text(suggested), List.of(), null,
				"set " + this.timeout.property() + " to " + Durations.text(suggested)
						+ " (four times the largest PING round trip measured, " + Durations.millis(max) + "ms).");
		String summary = "PING round trips reach " + Durations.millis(max) + "ms (p99 " + Durations.millis(p99)
				+ "ms) against a keepalive timeout of " + Durations.text(this.timeout.effective())
				+ ": a slower moment than this closes healthy connections as keepalive_timeout.";
		this.advisor.report(FindingType.TIMEOUT_CLOSE_TO_RTT, severity, tracker.side(), tracker.name(),
				this.timeout.property(), summary, evidence, recommendation);
	}

}
