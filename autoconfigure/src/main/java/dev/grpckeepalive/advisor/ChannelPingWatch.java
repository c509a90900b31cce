package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;

/**
 * Finding {@code channel_pings_too_often}: the server sent this channel GOAWAY
 * {@code too_many_pings}, after which grpc-java doubles the channel's keepalive time for the
 * connections it opens next. Reports the configured time, the time now in force, the
 * keepalive interval measured on the wire (this side's idle time before each keepalive PING),
 * the intervals the server rejected and those it tolerated.
 *
 * <p>A time is suggested only when the evidence shows the server tolerates it: a connection
 * whose keepalive PINGs, at least {@value #TOLERATED_PINGS} of them, all came at that
 * interval or longer without a GOAWAY. Until then the finding names a lower bound (the time
 * must be more than the one rejected) and the safe alternative, gRPC servers' default
 * minimum of {@value #SAFE_TIME}: the time grpc-java doubled to may well be rejected again.
 *
 * <p>Called on event loops once per keepalive PING and once per close.
 */
final class ChannelPingWatch implements ConnectionTrackerView.ConnectionListener {

	/** How many keepalive PINGs without a GOAWAY show that the server tolerates their interval. */
	static final int TOLERATED_PINGS = 3;

	/** gRPC servers' default permit-time: a keepalive time of this or more is permitted by every default server. */
	static final String SAFE_TIME = "5m";

	private static final int MAX_EXAMPLES = 3;

	private final KeepAliveAdvisor advisor;

	private final ChannelKeepAliveSettings settings;

	/** The keepalive PINGs of each open connection that sent one: how many, and the shortest interval. */
	private final Map<String, long[]> openIntervals = new ConcurrentHashMap<>();

	private final Samples wire = new Samples(32);

	private final Samples rejected = new Samples(16);

	/** The shortest interval of each closed connection that sent {@value #TOLERATED_PINGS} PINGs without a GOAWAY. */
	private final Samples tolerated = new Samples(16);

	private final List<String> examples = new ArrayList<>();

	private long goAways;

	ChannelPingWatch(KeepAliveAdvisor advisor, ChannelKeepAliveSettings settings) {
		this.advisor = advisor;
		this.settings = settings;
	}

	@Override
	public void keepAlivePingSent(ConnectionTrackerView tracker, long connection, long idleNanos) {
		long millis = Durations.millis(idleNanos);
		// written by the connection's event loop only: count and shortest interval
		long[] pings = this.openIntervals.computeIfAbsent(tracker.connectionId(connection),
				(id) -> new long[] { 0, Long.MAX_VALUE });
		pings[0]++;
		pings[1] = Math.min(pings[1], millis);
		long now = this.advisor.clock().millis();
		synchronized (this) {
			this.wire.add(millis, now);
			if (this.goAways > 0) {
				report(tracker, now);
			}
		}
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		long[] pings = this.openIntervals.remove(connection.id());
		boolean tooManyPings = connection.closeReason() == CloseReason.TOO_MANY_PINGS
				&& connection.lastGoAwayReceived() != null;
		long now = this.advisor.clock().millis();
		synchronized (this) {
			if (pings != null) {
				if (tooManyPings) {
					this.rejected.add(pings[1], now);
				}
				else if (pings[0] >= TOLERATED_PINGS) {
					this.tolerated.add(pings[1], now);
				}
			}
			if (tooManyPings) {
				this.goAways++;
				if (this.examples.size() == MAX_EXAMPLES) {
					this.examples.remove(0);
				}
				this.examples.add(connection.id());
				report(tracker, now);
			}
		}
	}

	private void report(ConnectionTrackerView tracker, long now) {
		long since = now - this.advisor.window().toMillis();
		long[] rejectedMillis = this.rejected.since(since);
		List<Long> toleratedMillis = new ArrayList<>();
		for (long value : this.tolerated.since(since)) {
			toleratedMillis.add(value);
		}
		this.openIntervals.values().forEach((pings) -> {
			if (pings[0] >= TOLERATED_PINGS) {
				toleratedMillis.add(pings[1]);
			}
		});
		long worstRejected = 0;
		for (long value : rejectedMillis) {
			worstRejected = Math.max(worstRejected, value);
		}
		long smallestTolerated = Long.MAX_VALUE;
		for (long value : toleratedMillis) {
			if (value > worstRejected) {
				smallestTolerated = Math.min(smallestTolerated, value);
			}
		}
		DurationSetting time = this.settings.time();
		int doublings = tracker.keepAliveBackoffs();
		DurationSetting inForce = time.backedOff(doublings);
		// a measured interval is the keepalive time plus a few milliseconds of scheduling: the nearest second
		long configuredMillis = (time.effective() != null) ? time.effective().toMillis() : 0;
		Duration rejectedTime = Duration.ofSeconds(Math.max(configuredMillis / 1000, Math.round(worstRejected / 1000.0)));

		Evidence evidence = new Evidence.ChannelPingsTooOften(Durations.text(time.effective()),
				Durations.text(inForce.effective()), doublings, this.goAways, Durations.stats(this.wire.since(since)),
				Durations.stats(rejectedMillis),
				Durations.stats(toleratedMillis.stream().mapToLong(Long::longValue).toArray()), TOLERATED_PINGS,
				this.examples);

		String serverSide = "or have the server permit PINGs every " + Durations.text(time.effective())
				+ (this.settings.withoutCalls() ? " on connections without calls" : "")
				+ " (grpc-java: permitKeepAliveTime" + (this.settings.withoutCalls() ? "/permitKeepAliveWithoutCalls" : "")
				+ "; grpc-go: keepalive.EnforcementPolicy; this starter: grpc.keepalive.server.permit-time"
				+ (this.settings.withoutCalls() ? "/permit-without-calls" : "") + ")";
		Recommendation recommendation;
		if (smallestTolerated != Long.MAX_VALUE) {
			Duration suggested = Duration.ofSeconds(Math.max(1, Math.round(smallestTolerated / 1000.0)));
			recommendation = new Recommendation(time.property(), Durations.text(time.effective()),
					Durations.text(suggested), List.of(), serverSide,
					"set " + time.property() + " to " + Durations.text(suggested) + " (the server tolerated "
							+ TOLERATED_PINGS + " or more PINGs at that interval), " + serverSide + ".");
		}
		else {
			String trying = (doublings > 0) ? "; grpc-java now tries " + Durations.text(inForce.effective())
					+ ", which the server has not yet been seen to tolerate" : "";
			recommendation = new Recommendation(time.property(), Durations.text(time.effective()),
					Durations.text(rejectedTime), List.of(), serverSide,
					"set " + time.property() + " to more than " + Durations.text(rejectedTime)
							+ " (the server rejected PINGs at that interval" + trying + "); " + SAFE_TIME
							+ " is permitted by gRPC servers' defaults, " + serverSide + ".",
					true, SAFE_TIME);
		}
		String summary = "The server closed " + this.goAways + " connection(s) of this channel with GOAWAY "
				+ "too_many_pings; grpc-java " + ((doublings > 0) ? "doubled the keepalive time to "
						+ Durations.text(inForce.effective()) + " (configured " + Durations.text(time.effective()) + ")"
						: "keeps the configured keepalive time") + " for new connections.";
		this.advisor.report(FindingType.CHANNEL_PINGS_TOO_OFTEN, Severity.WARNING, Side.CLIENT, tracker.name(),
				"too_many_pings", summary, evidence, recommendation);
	}

}
