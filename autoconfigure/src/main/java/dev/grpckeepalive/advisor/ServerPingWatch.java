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
 * clients' {@code user-agent} and reports once a connection is really heading for GOAWAY: it
 * reached grpc-java's {@value #MAX_PING_STRIKES} strikes without HEADERS or DATA from the
 * server in between (which reset them), or was closed {@code too_many_pings}. A single strike
 * is harmless and common: grpc-java measures a connection's first valid PING from the
 * connection's start, so a BDP PING early in a busy connection strikes, and the server's next
 * DATA forgives it.
 *
 * <p>The clients' keepalive interval is the median of at least {@value #MIN_INTERVALS}
 * intervals before PINGs that are not BDP PINGs (grpc-java's and grpc-go's by payload,
 * C-core's by behaviour): never one back-to-back pair. The fix is a permit-time of 90% of
 * that interval, never under {@link #PERMIT_TIME_FLOOR}, when the clients ping no more often
 * than grpc-java and grpc-go clients can ({@link #CLIENT_MIN_TIME}); else, or while no
 * interval is measured, the clients are told to slow down to the permit-time, and the server
 * is left as it is.
 *
 * <p>Called on event loops for strikes only (a handful per offending connection), under the
 * lock of a table bounded to {@value #MAX_AGENTS} user agents, least recently seen evicted.
 */
final class ServerPingWatch implements ConnectionTrackerView.ConnectionListener {

	static final int MAX_AGENTS = 64;

	static final String UNKNOWN_AGENT = "unknown (no stream on the connection yet)";

	/** grpc-java's {@code KeepAliveEnforcer.MAX_PING_STRIKES}: one strike more and it sends GOAWAY. */
	static final int MAX_PING_STRIKES = 2;

	/**
	 * How many keepalive intervals make a measured interval: those before the second and
	 * third of several keepalive PINGs at least, never one back-to-back pair. The interval
	 * is their upper median: a PING sooner than the keepalive time (an unrecognised BDP or
	 * application PING) pulls it down no further than the next longer one.
	 */
	static final int MIN_INTERVALS = 2;

	/**
	 * The shortest keepalive time of grpc-java and grpc-go clients: they raise a shorter one to
	 * this. A client that pings more often (C-core and grpc-js allow it) is told to slow down.
	 */
	static final Duration CLIENT_MIN_TIME = Duration.ofSeconds(10);

	/**
	 * The shortest permit-time the advisor suggests: 90% of {@link #CLIENT_MIN_TIME}, which
	 * lets a client ping every 10s with room for timer jitter. A shorter permit-time only serves
	 * clients that ping faster than grpc-java or grpc-go can, and lets any client keep the
	 * server answering PINGs: it would disarm the protection permit-time is.
	 */
	static final Duration PERMIT_TIME_FLOOR = Duration.ofSeconds(9);

	/** gRPC servers' default permit-time: what a client keepalive time of this or more is always permitted. */
	static final String SAFE_PERMIT_TIME = "5m";

	/** The suggested permit-time, as a share of the measured interval: room for timer jitter. */
	static final double MARGIN = 0.9;

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
			if (strikes == MAX_PING_STRIKES) {
				// counted once per reach: the GOAWAY strike that may follow comes after this one
				agent.connectionsAtMaxStrikes++;
			}
			if (strikes >= MAX_PING_STRIKES) {
				agent.example(id);
			}
			if (agent.isReportable()) {
				report(agentName, agent, now);
			}
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
		long[] sortedIntervals = sorted(intervals);
		boolean measured = intervals.length >= MIN_INTERVALS;
		long typical = measured ? sortedIntervals[sortedIntervals.length / 2] : 0;
		DurationSetting permitTime = this.settings.permitTime();
		Duration permit = (permitTime.effective() != null) ? permitTime.effective() : Duration.ofMinutes(5);
		boolean permitWithoutCalls = this.settings.permitWithoutCalls();
		boolean withoutCalls = agent.strikesWithoutCalls > 0 && !permitWithoutCalls;
		// a client at 10s is measured at 10s give or take a little scheduling: 5% of room
		boolean slowEnough = typical >= CLIENT_MIN_TIME.toMillis() * 0.95;
		Duration fitting = Durations.floorNice((long) (typical * MARGIN));
		if (fitting.compareTo(PERMIT_TIME_FLOOR) < 0) {
			fitting = PERMIT_TIME_FLOOR;
		}
		boolean tooSoon = measured && typical < permit.toMillis();

		Evidence evidence = new Evidence.ClientsPingTooOften(agentName, Durations.stats(intervals), measured,
				agent.strikes, agent.strikesWithoutCalls, agent.bdpStrikes, agent.maxStrikes,
				agent.connectionsAtMaxStrikes, MAX_PING_STRIKES + 1, agent.closedTooManyPings, agent.examples,
				Durations.text(permitTime.effective()), permitWithoutCalls);

		String withoutCallsProperty = permitTime.property().replace("permit-time", "permit-without-calls");
		ClientOption client = ClientOption.of(agentName);
		String slowDown = "set the clients' keepalive time to at least " + Durations.text(permit)
				+ (withoutCalls ? " and their keepalive-without-calls to false" : "") + " (" + client.description
				+ ")";
		Recommendation recommendation;
		boolean serverCanFit = permit.compareTo(PERMIT_TIME_FLOOR) >= 0;
		if (tooSoon && slowEnough && fitting.compareTo(permit) < 0) {
			List<Recommendation.Change> also = new ArrayList<>();
			if (withoutCalls) {
				also.add(new Recommendation.Change(withoutCallsProperty, "false", "true"));
			}
			recommendation = new Recommendation(permitTime.property(), Durations.text(permitTime.effective()),
					Durations.text(fitting), also, slowDown,
					"set " + permitTime.property() + " to " + Durations.text(fitting) + " (90% of the "
							+ Durations.text(Duration.ofMillis(typical)) + " these clients wait between keepalive "
							+ "PINGs, over " + intervals.length + " intervals; never under "
							+ Durations.text(PERMIT_TIME_FLOOR) + ")"
							+ (withoutCalls ? " and " + withoutCallsProperty + " to true" : "") + ", or " + slowDown
							+ ".");
		}
		else if (!tooSoon && measured && withoutCalls && serverCanFit) {
			recommendation = new Recommendation(withoutCallsProperty, String.valueOf(permitWithoutCalls), "true",
					List.of(), slowDown, "set " + withoutCallsProperty + " to true (the clients wait "
							+ Durations.text(Duration.ofMillis(typical)) + " between PINGs, as permit-time allows, "
							+ "but on connections without calls), or " + slowDown + ".");
		}
		else {
			// too fast for any permit-time the advisor would suggest, or no interval measured yet:
			// the clients slow down to what the server permits; the server stays as it is
			List<Recommendation.Change> also = new ArrayList<>();
			if (withoutCalls && client.withoutCalls != null) {
				also.add(new Recommendation.Change(client.withoutCalls, null, client.withoutCallsOff));
			}
			String why = !measured ? "fewer than " + MIN_INTERVALS + " keepalive intervals measured yet"
					: tooSoon ? "they ping every " + Durations.text(Duration.ofMillis(typical))
							+ ", faster than grpc-java and grpc-go clients can ("
							+ Durations.text(CLIENT_MIN_TIME) + "): the server should not permit that"
							: "they ping every " + Durations.text(Duration.ofMillis(typical)) + " as a rule, but some "
									+ "PINGs come sooner (grpc-java counts a connection's first from its start)";
			recommendation = new Recommendation(client.property, measured ? client.format(typical) : null,
					client.format(permit.toMillis()), also, null,
					slowDown + " (" + why + "); leave " + permitTime.property() + " at "
							+ Durations.text(permitTime.effective()) + ".");
		}
		Severity severity = (agent.closedTooManyPings > 0) ? Severity.CRITICAL : Severity.WARNING;
		String summary = "Clients '" + agentName + "' send PINGs"
				+ (measured ? " every " + Durations.text(Duration.ofMillis(typical)) : "")
				+ (withoutCalls ? " on connections without calls" : "") + ", faster than the server permits ("
				+ "permit-time " + Durations.text(permitTime.effective()) + ", permit-without-calls "
				+ permitWithoutCalls + "): " + agent.strikes + " strikes, "
				+ ((agent.closedTooManyPings > 0) ? agent.closedTooManyPings + " connection(s) closed too_many_pings."
						: agent.connectionsAtMaxStrikes + " connection(s) one strike from grpc-java's GOAWAY "
								+ "too_many_pings.");
		this.advisor.report(FindingType.CLIENTS_PING_TOO_OFTEN, severity, Side.SERVER, "server", agentName, summary,
				evidence, recommendation);
	}

	/** Where a client implementation, as its user agent names it, sets its keepalive. */
	private record ClientOption(String property, String description, boolean millis, @Nullable String withoutCalls,
			String withoutCallsOff) {

		static ClientOption of(String userAgent) {
			if (userAgent.contains("grpc-c/") || userAgent.startsWith("grpc-node-js/")) {
				String implementation = userAgent.startsWith("grpc-node-js/") ? "grpc-js" : "gRPC C-core";
				return new ClientOption("grpc.keepalive_time_ms", implementation + " channel arguments "
						+ "grpc.keepalive_time_ms and grpc.keepalive_permit_without_calls", true,
						"grpc.keepalive_permit_without_calls", "0");
			}
			if (userAgent.startsWith("grpc-go/")) {
				return new ClientOption("keepalive.ClientParameters.Time", "grpc-go: keepalive.ClientParameters "
						+ "Time and PermitWithoutStream", false, "keepalive.ClientParameters.PermitWithoutStream",
						"false");
			}
			if (userAgent.startsWith("grpc-java")) {
				return new ClientOption("keepAliveTime", "grpc-java: the channel builder's keepAliveTime and "
						+ "keepAliveWithoutCalls; this starter: grpc.keepalive.client.channels.<name>.time and "
						+ ".without-calls", false, "keepAliveWithoutCalls", "false");
			}
			return new ClientOption("keepalive time (client)", "grpc-java: keepAliveTime/keepAliveWithoutCalls; "
					+ "grpc-go: keepalive.ClientParameters; C-core and grpc-js: grpc.keepalive_time_ms/"
					+ "grpc.keepalive_permit_without_calls", false, null, "false");
		}

		/** A duration as this option takes it: milliseconds for the {@code _ms} channel arguments. */
		String format(long durationMillis) {
			return this.millis ? String.valueOf(durationMillis) : Durations.text(Duration.ofMillis(durationMillis));
		}

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

		long connectionsAtMaxStrikes;

		long lastSeenMillis;

		/** Whether a connection reached the strikes after which the next one is grpc-java's GOAWAY, or got it. */
		boolean isReportable() {
			return this.connectionsAtMaxStrikes > 0 || this.closedTooManyPings > 0;
		}

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
