package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * the intervals the server rejected and those it tolerated, and the smallest time consistent
 * with them.
 *
 * <p>Called on event loops once per keepalive PING and once per close.
 */
final class ChannelPingWatch implements ConnectionTrackerView.ConnectionListener {

	private static final int MAX_EXAMPLES = 3;

	private final KeepAliveAdvisor advisor;

	private final ChannelKeepAliveSettings settings;

	/** The shortest keepalive interval of each open connection that sent one. */
	private final Map<String, Long> openIntervals = new ConcurrentHashMap<>();

	private final Samples wire = new Samples(32);

	private final Samples rejected = new Samples(16);

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
		this.openIntervals.merge(tracker.connectionId(connection), millis, Math::min);
		long now = this.advisor.clock().millis();
		synchronized (this) {
			this.wire.add(millis, now);
			if (tracker.keepAliveBackoffs() > 0 && this.goAways > 0) {
				report(tracker, now);
			}
		}
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		Long interval = this.openIntervals.remove(connection.id());
		boolean tooManyPings = connection.closeReason() == CloseReason.TOO_MANY_PINGS
				&& connection.lastGoAwayReceived() != null;
		long now = this.advisor.clock().millis();
		synchronized (this) {
			if (interval != null) {
				(tooManyPings ? this.rejected : this.tolerated).add(interval, now);
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
		this.openIntervals.values().forEach(toleratedMillis::add);
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
		Duration suggested = (smallestTolerated != Long.MAX_VALUE)
				? Duration.ofSeconds(Math.max(1, Math.round(smallestTolerated / 1000.0)))
				: (inForce.effective() != null) ? inForce.effective() : Durations.ceilNice(2 * worstRejected);

		Map<String, Object> evidence = new LinkedHashMap<>();
		evidence.put("configuredTime", Durations.text(time.effective()));
		evidence.put("timeInForce", Durations.text(inForce.effective()));
		evidence.put("doublingsByGrpcJava", doublings);
		evidence.put("goawaysTooManyPings", this.goAways);
		evidence.put("wirePingIntervalMillis", Durations.stats(this.wire.since(since)));
		evidence.put("rejectedIntervalMillis", Durations.stats(rejectedMillis));
		evidence.put("toleratedIntervalMillis",
				Durations.stats(toleratedMillis.stream().mapToLong(Long::longValue).toArray()));
		evidence.put("connections", List.copyOf(this.examples));

		String serverSide = "or have the server permit PINGs every " + Durations.text(time.effective())
				+ (this.settings.withoutCalls() ? " on connections without calls" : "")
				+ " (grpc-java: permitKeepAliveTime" + (this.settings.withoutCalls() ? "/permitKeepAliveWithoutCalls" : "")
				+ "; this starter: grpc.keepalive.server.permit-time"
				+ (this.settings.withoutCalls() ? "/permit-without-calls" : "") + ")";
		Recommendation recommendation = new Recommendation(time.property(), Durations.text(time.effective()),
				Durations.text(suggested), List.of(), serverSide,
				"set " + time.property() + " to " + Durations.text(suggested)
						+ " (the smallest time consistent with what the server tolerated), " + serverSide + ".");
		String summary = "The server closed " + this.goAways + " connection(s) of this channel with GOAWAY "
				+ "too_many_pings; grpc-java " + ((doublings > 0) ? "doubled the keepalive time to "
						+ Durations.text(inForce.effective()) + " (configured " + Durations.text(time.effective()) + ")"
						: "keeps the configured keepalive time") + " for new connections.";
		this.advisor.report(FindingType.CHANNEL_PINGS_TOO_OFTEN, Severity.WARNING, Side.CLIENT, tracker.name(),
				"too_many_pings", summary, evidence, recommendation);
	}

}
