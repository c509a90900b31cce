package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.Side;

/**
 * Finding {@code clients_ping_too_often}: the server's frame observers count the strikes
 * grpc-java's keepalive enforcer counts against each client PING; this groups them by the
 * clients' {@code user-agent} and reports from the first strike, before grpc-java's GOAWAY
 * (which comes with the third strike on a connection), and counts the connections that
 * GOAWAY then closed.
 *
 * <p>Called on event loops for strikes only (a handful per offending connection), under the
 * lock of a table bounded to {@value #MAX_AGENTS} user agents, least recently seen evicted.
 */
final class ServerPingWatch implements ConnectionTrackerView.ConnectionListener {

	static final int MAX_AGENTS = 64;

	static final String UNKNOWN_AGENT = "unknown (no call on the connection yet)";

	private static final int MAX_EXAMPLES = 3;

	private final KeepAliveAdvisor advisor;

	private final ServerKeepAliveSettings settings;

	private final Map<String, Agent> agents = new LinkedHashMap<>(16, 0.75f, true) {

		@Override
		protected boolean removeEldestEntry(Map.Entry<String, Agent> eldest) {
			return size() > MAX_AGENTS;
		}

	};

	/** The user agent of each open connection that had a strike, to credit its too_many_pings close. */
	private final Map<String, String> struck = new ConcurrentHashMap<>();

	ServerPingWatch(KeepAliveAdvisor advisor, ServerKeepAliveSettings settings) {
		this.advisor = advisor;
		this.settings = settings;
	}

	@Override
	public void peerPing(ConnectionTrackerView tracker, long connection, @Nullable String userAgent,
			PingKind kind, long intervalNanos, boolean withoutCalls, boolean strike, int strikes) {
		if (!strike) {
			return;
		}
		String agentName = (userAgent != null) ? userAgent : UNKNOWN_AGENT;
		String id = tracker.connectionId(connection);
		this.struck.put(id, agentName);
		long now = this.advisor.clock().millis();
		synchronized (this.agents) {
			Agent agent = agent(agentName, now);
			if (kind != PingKind.BDP) {
				// a BDP PING answers the server's DATA: its interval says nothing of the keepalive time
				agent.intervals.add(Durations.millis(intervalNanos), now);
			}
			else {
				agent.bdpStrikes++;
			}
			agent.strikes++;
			if (withoutCalls) {
				agent.strikesWithoutCalls++;
			}
			agent.maxStrikes = Math.max(agent.maxStrikes, strikes);
			agent.example(id);
			report(agentName, agent, now);
		}
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		String agentName = this.struck.remove(connection.id());
		if (agentName == null || connection.closeReason() != CloseReason.TOO_MANY_PINGS) {
			return;
		}
		long now = this.advisor.clock().millis();
		synchronized (this.agents) {
			Agent agent = agent(agentName, now);
			agent.closedTooManyPings++;
			agent.example(connection.id());
			report(agentName, agent, now);
		}
	}

	private Agent agent(String name, long now) {
		Agent agent = this.agents.get(name);
		if (agent == null || agent.lastSeenMillis < now - this.advisor.window().toMillis()) {
			agent = new Agent();
			this.agents.put(name, agent);
		}
		agent.lastSeenMillis = now;
		return agent;
	}

	private void report(String agentName, Agent agent, long now) {
		long[] intervals = agent.intervals.since(now - this.advisor.window().toMillis());
		DurationSetting permitTime = this.settings.permitTime();
		boolean permitWithoutCalls = this.settings.permitWithoutCalls();
		long permitMillis = (permitTime.effective() != null) ? permitTime.effective().toMillis() : 0;
		long shortest = Long.MAX_VALUE;
		for (long interval : intervals) {
			shortest = Math.min(shortest, interval);
		}
		boolean tooSoon = intervals.length > 0 && shortest < permitMillis;
		boolean withoutCalls = agent.strikesWithoutCalls > 0 && !permitWithoutCalls;

		Map<String, Object> evidence = new LinkedHashMap<>();
		evidence.put("userAgent", agentName);
		evidence.put("pingIntervalMillis", Durations.stats(intervals));
		evidence.put("strikes", agent.strikes);
		evidence.put("strikesWithoutCalls", agent.strikesWithoutCalls);
		evidence.put("strikesByBdpPings", agent.bdpStrikes);
		evidence.put("mostStrikesOnOneConnection", agent.maxStrikes);
		evidence.put("goawayAfterStrikes", 3);
		evidence.put("connectionsClosedTooManyPings", agent.closedTooManyPings);
		evidence.put("connections", List.copyOf(agent.examples));
		evidence.put("permitTime", Durations.text(permitTime.effective()));
		evidence.put("permitWithoutCalls", permitWithoutCalls);

		String withoutCallsProperty = permitTime.property().replace("permit-time", "permit-without-calls");
		Duration suggestedPermit = Durations.floorNice((long) (shortest * 0.9));
		List<Recommendation.Change> also = new ArrayList<>();
		Recommendation recommendation;
		String clientTime = "set the clients' keepalive time to at least " + Durations.text(permitTime.effective())
				+ (withoutCalls ? " and their keepalive-without-calls to false" : "")
				+ " (grpc-java: keepAliveTime/keepAliveWithoutCalls; grpc-js: grpc.keepalive_time_ms/"
				+ "grpc.keepalive_permit_without_calls; this starter: grpc.keepalive.client.channels.<name>.time)";
		if (tooSoon) {
			if (withoutCalls) {
				also.add(new Recommendation.Change(withoutCallsProperty, "false", "true"));
			}
			recommendation = new Recommendation(permitTime.property(), Durations.text(permitTime.effective()),
					Durations.text(suggestedPermit), also, clientTime,
					"set " + permitTime.property() + " to " + Durations.text(suggestedPermit) + " (at most the "
							+ Durations.text(Duration.ofMillis(shortest)) + " these clients wait between PINGs)"
							+ (withoutCalls ? " and " + withoutCallsProperty + " to true" : "") + ", or " + clientTime
							+ ".");
		}
		else if (!withoutCalls) {
			// only BDP PINGs struck so far: no keepalive interval to fit permit-time to yet
			recommendation = new Recommendation(permitTime.property(), Durations.text(permitTime.effective()),
					Durations.text(permitTime.effective()), also, clientTime,
					"watch the next strikes: so far only BDP PINGs struck, which HEADERS or DATA from the server "
							+ "normally excuse; if they continue, " + clientTime + ".");
		}
		else {
			recommendation = new Recommendation(withoutCallsProperty, String.valueOf(permitWithoutCalls), "true", also,
					clientTime, "set " + withoutCallsProperty + " to true, or " + clientTime + ".");
		}
		Severity severity = (agent.closedTooManyPings > 0) ? Severity.CRITICAL : Severity.WARNING;
		String summary = "Clients '" + agentName + "' send PINGs"
				+ ((intervals.length > 0)
						? " every " + Durations.text(Duration.ofMillis(Durations.median(sorted(intervals)))) : "")
				+ (withoutCalls ? " on connections without calls" : "") + ", faster than the server permits ("
				+ "permit-time " + Durations.text(permitTime.effective()) + ", permit-without-calls "
				+ permitWithoutCalls + "): " + agent.strikes + " strikes, "
				+ ((agent.closedTooManyPings > 0) ? agent.closedTooManyPings + " connection(s) closed too_many_pings."
						: "grpc-java closes a connection with GOAWAY too_many_pings at its third strike.");
		this.advisor.report(FindingType.CLIENTS_PING_TOO_OFTEN, severity, Side.SERVER, "server", agentName, summary,
				evidence, recommendation);
	}

	private static long[] sorted(long[] values) {
		long[] sorted = values.clone();
		java.util.Arrays.sort(sorted);
		return sorted;
	}

	/** What one user agent's clients did. Guarded by the table's lock. */
	private static final class Agent {

		final Samples intervals = new Samples(32);

		final List<String> examples = new ArrayList<>(MAX_EXAMPLES);

		long strikes;

		long bdpStrikes;

		long strikesWithoutCalls;

		int maxStrikes;

		long closedTooManyPings;

		long lastSeenMillis;

		void example(String connectionId) {
			if (!this.examples.contains(connectionId)) {
				if (this.examples.size() == MAX_EXAMPLES) {
					this.examples.remove(0);
				}
				this.examples.add(connectionId);
			}
		}

	}

}
