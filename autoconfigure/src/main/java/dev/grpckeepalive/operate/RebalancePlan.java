package dev.grpckeepalive.operate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionState;

/**
 * What a rebalance drains, and when: the oldest connections that are not closing already,
 * one every {@code over / count}, the first at once and the last one interval before the end
 * of the period, so that every GOAWAY has gone out within {@code over}.
 *
 * <p>How many: for {@code keep N}, those beyond N ({@code open - N}, none when N or fewer are
 * open); for {@code shed S}, the share S of the open connections rounded to the nearest whole
 * connection (half up), at most all of them. Connections already closing (a GOAWAY either
 * way) neither count as open nor are drained: they are on their way out.
 *
 * @param request the request, as in {@code keep 100 over 30s}
 * @param open the connections open and not closing when the plan was made
 * @param ids the connections to drain, in the order they will be drained (oldest first)
 * @param over the period the drains are spread over
 * @param startedAt when the plan was made, and the first drain went out
 */
public record RebalancePlan(String request, int open, List<String> ids, Duration over, Instant startedAt) {

	public RebalancePlan {
		ids = List.copyOf(ids);
	}

	/**
	 * The plan for a request over the open connections.
	 * @param request the request
	 * @param connections the open connections, oldest first
	 * @param now when the plan starts
	 */
	static RebalancePlan of(RebalanceRequest request, List<ConnectionSnapshot> connections, Instant now) {
		List<String> live = new ArrayList<>(connections.size());
		for (ConnectionSnapshot connection : connections) {
			if (connection.state() != ConnectionState.DRAINING && connection.state() != ConnectionState.CLOSED) {
				live.add(connection.id());
			}
		}
		int count = count(request, live.size());
		return new RebalancePlan(request.describe(), live.size(), live.subList(0, count), request.over(), now);
	}

	/** How many of {@code open} connections a request drains. */
	static int count(RebalanceRequest request, int open) {
		Integer keep = request.keep();
		if (keep != null) {
			return Math.max(0, open - keep);
		}
		Double shed = request.shed();
		long count = (long) Math.floor(open * ((shed != null) ? shed : 0) + 0.5);
		return (int) Math.min(open, Math.max(0, count));
	}

	/** How many connections it drains. */
	public int count() {
		return this.ids.size();
	}

	/** How many connections stay open once it is done (of those open and not closing when it started). */
	public int keeping() {
		return this.open - count();
	}

	/** The time between two drains: {@code over / count}; zero when it drains at most one. */
	public Duration interval() {
		return (count() > 1) ? Duration.ofNanos(offsetNanos(1)) : Duration.ZERO;
	}

	/**
	 * When the drain at {@code index} (from 0) is due, after the start: {@code over * index /
	 * count}, exact in nanoseconds without overflow for any period up to
	 * {@link RebalanceRequest#MAX_OVER}.
	 */
	long offsetNanos(int index) {
		int count = count();
		if (count == 0) {
			return 0;
		}
		long over = this.over.toNanos();
		return over / count * index + (over % count) * index / count;
	}

}
