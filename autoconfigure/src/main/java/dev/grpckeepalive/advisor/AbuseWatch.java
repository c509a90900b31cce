package dev.grpckeepalive.advisor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;

/**
 * Finding {@code abusive_clients}: server connections closed by an HTTP/2 abuse limit (close
 * reason {@code abuse}), one finding per limit, with how many connections it closed within
 * the window and a few example connection ids (never addresses). The limit did its job; the
 * recommendation is to keep it and stop such clients before the server, unless the evidence
 * says they were gRPC clients doing real work.
 *
 * <p>Called on event loops once per close; bounded by the number of limits (grpc-java's and
 * Netty's named by their GOAWAY debug data, at most 16 kept).
 */
final class AbuseWatch implements ConnectionTrackerView.ConnectionListener {

	private static final int MAX_EXAMPLES = 3;

	private static final int MAX_LIMITS = 16;

	private final KeepAliveAdvisor advisor;

	private final ServerLimitSettings limits;

	private final Map<String, Limit> byLimit = new LinkedHashMap<>();

	AbuseWatch(KeepAliveAdvisor advisor, ServerLimitSettings limits) {
		this.advisor = advisor;
		this.limits = limits;
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		if (connection.closeReason() != CloseReason.ABUSE) {
			return;
		}
		String name = (connection.abuseLimit() != null) ? connection.abuseLimit() : "unknown";
		long now = this.advisor.clock().millis();
		synchronized (this) {
			Limit limit = this.byLimit.get(name);
			if (limit == null || limit.lastSeenMillis < now - this.advisor.window().toMillis()) {
				if (limit == null && this.byLimit.size() == MAX_LIMITS) {
					return;
				}
				limit = new Limit();
				this.byLimit.put(name, limit);
			}
			limit.lastSeenMillis = now;
			limit.closed++;
			if (connection.totalCalls() > 0) {
				limit.withCalls++;
			}
			if (limit.examples.size() == MAX_EXAMPLES) {
				limit.examples.remove(0);
			}
			limit.examples.add(connection.id());
			report(tracker, name, limit);
		}
	}

	private void report(ConnectionTrackerView tracker, String name, Limit limit) {
		LimitSetting setting = setting(name);
		String property = (setting != null) ? setting.property() : "grpc.keepalive.server.limits";
		String current = (setting != null) ? String.valueOf(setting.effective()) : null;
		Evidence evidence = new Evidence.AbusiveClients(name, limit.closed, limit.withCalls, limit.examples,
				(setting != null) ? setting.effective() : null);
		String block = "block or rate-limit these clients before the server, at the load balancer or firewall "
				+ "(docs/security.md); the endpoint's connections/{id} and the log of the close name no more than the "
				+ "limit, the server's access log or the load balancer's has their addresses";
		String text;
		String instead;
		if (setting == null) {
			text = "keep the limit (" + name + " is not one of the starter's properties: grpc-java's or Netty's own), and "
					+ block + ".";
			instead = null;
		}
		else if (limit.withCalls > 0) {
			instead = "if these are your own clients doing legitimate heavy traffic (" + limit.withCalls
					+ " of the closed connections carried gRPC calls), measure their peak and raise " + property
					+ " above it (docs/security.md lists what legitimate traffic was measured at)";
			text = "keep " + property + " at " + current + " and " + block + "; " + instead + ".";
		}
		else {
			instead = "raise " + property + " only for clients you know: none of these connections carried a gRPC call";
			text = "keep " + property + " at " + current + " and " + block + ".";
		}
		String summary = limit.closed + " connection(s) closed as abuse by the limit " + name + " (GOAWAY "
				+ "ENHANCE_YOUR_CALM)" + ((limit.withCalls > 0) ? ", " + limit.withCalls + " of them after gRPC calls"
						: ", none of them with a gRPC call")
				+ ".";
		this.advisor.report(FindingType.ABUSIVE_CLIENTS, Severity.WARNING, Side.SERVER, tracker.name(), name, summary,
				evidence, new Recommendation(property, current, "keep", List.of(), instead, text));
	}

	private @Nullable LimitSetting setting(String name) {
		for (LimitSetting setting : List.of(this.limits.maxRstFrames(), this.limits.maxUnsolicitedPingAcks(),
				this.limits.maxSettingsFrames(), this.limits.maxConsecutiveEmptyFrames(), this.limits.maxWindowUpdateFrames(),
				this.limits.maxPrematureResets(),
				this.limits.maxConcurrentCallsPerConnection(), this.limits.maxInboundMetadataSize(),
				this.limits.maxConnections())) {
			if (setting.property().endsWith("." + name)) {
				return setting;
			}
		}
		return null;
	}

	/** What one limit closed. Guarded by the watch's lock. */
	private static final class Limit {

		final List<String> examples = new ArrayList<>(MAX_EXAMPLES);

		long closed;

		long withCalls;

		long lastSeenMillis;

	}

}
