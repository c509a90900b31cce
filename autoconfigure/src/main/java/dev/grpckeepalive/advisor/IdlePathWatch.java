package dev.grpckeepalive.advisor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.SilenceBeforeClose;
import dev.grpckeepalive.connection.Side;

/**
 * Findings {@code idle_connections_dropped} (server or channel) and
 * {@code no_keepalive_on_idle_path} (channel without keepalive): connections that die after a
 * silence, without a GOAWAY from the peer, closed {@code peer_closed}, {@code error} or
 * {@code keepalive_timeout}, can point at something on the path that drops idle connections.
 * The frame observer measures each connection's silences: one that ends with the peer's
 * frames <em>survived</em>; the one a connection dies in (or, when it dies right after this
 * side wrote, or its keepalive PING timed out, the one before that write) <em>killed</em>.
 *
 * <p>Connections die for many reasons that are not an idle timeout: clients exit (an orderly
 * FIN after whatever pause their work had), proxies close connections of their pools. So a
 * finding needs repeated, consistent evidence, and never contradicts its own:
 * <ul>
 * <li>a death at a silence no longer than one that survived is not explained by an idle
 * timeout, and does not count;
 * <li>on the server, an orderly close (FIN) while the same peer host kept another connection
 * busy, or opened a new one, during the dying connection's silence is pool churn, and does
 * not count;
 * <li>a silence under {@link #MIN_IDLE_TIMEOUT} is a pause between calls, not an idle timeout;
 * <li>what remains must be at least {@value #MIN_DEATHS} deaths: deaths during the silence
 * whose silences agree (within {@link #AGREEMENT}), as a middlebox's timer makes them, with
 * any deaths right after a write at a silence at least as long; or deaths right after a write
 * (keepalive timeouts, resets), as a NAT that forgot the connection causes, once a shorter
 * silence is known to have survived.
 * </ul>
 * The middlebox's idle timeout lies above the longest silence that survived and at most the
 * shortest that killed. The keepalive time suggested is 80% of a timeout measured (deaths
 * during silence) or of the longest silence that survived: values the evidence shows work.
 * When that is under grpc-java's 10s minimum no keepalive time can work: the recommendation
 * is then the middlebox's idle timeout, as a lower bound.
 *
 * <p>Called on event loops once per silence of a second or more that survives (only when it
 * is the longest in the window: lock-free check first) and once per close. Bounded: the
 * latest {@value #CAPACITY} deaths, 32 record silences, 3 example connections; the pool-churn
 * check lists the open connections only for an orderly close after a silence.
 */
final class IdlePathWatch implements ConnectionTrackerView.ConnectionListener {

	static final int CAPACITY = 64;

	private static final int MAX_EXAMPLES = 3;

	/** The keepalive time suggested: at most this share of the idle timeout the evidence supports. */
	static final double MARGIN = 0.8;

	/**
	 * The upper bound of the idle timeout over the shortest silence that killed: the silence is
	 * measured from this side's last frame, which the middlebox saw a little earlier (up to a
	 * one-way trip, plus its timer's granularity: HAProxy's 3s was measured as 2999ms).
	 */
	static final double TOLERANCE = 1.02;

	/** How far apart the silences of deaths by one timer can be: the longest at most this times the shortest. */
	static final double AGREEMENT = 1.1;

	/** How many consistent deaths make a finding. */
	static final int MIN_DEATHS = 2;

	/**
	 * The shortest killing silence taken for an idle timeout. Clients pause a second or so
	 * between calls and then exit; no middlebox closes a flow idle for less (HAProxy's and
	 * nginx's timeouts are tens of seconds, cloud NATs' minutes).
	 */
	static final Duration MIN_IDLE_TIMEOUT = Duration.ofSeconds(2);

	/** How long another connection must have been open to show pool churn, rather than a client's reconnect. */
	static final Duration RECONNECT_MARGIN = Duration.ofSeconds(1);

	/** grpc-java raises a keepalive time under this to this. */
	static final Duration GRPC_JAVA_MIN_TIME = Duration.ofSeconds(10);

	/** grpc-java raises a max-connection-idle under this to this. */
	static final Duration GRPC_JAVA_MIN_IDLE = Duration.ofSeconds(1);

	/** What the recommendation names when no setting of this application can keep the path open. */
	static final String MIDDLEBOX_IDLE_TIMEOUT = "idle timeout of the middlebox on the path";

	private final KeepAliveAdvisor advisor;

	private final Side side;

	private final DurationSetting time;

	/** The property of the keepalive time of this server or channel (not of the channels' defaults it may come from). */
	private final String timeProperty;

	/** The channel's without-calls property, {@code null} for the server (which pings with or without calls). */
	private final @Nullable String withoutCallsProperty;

	private final boolean withoutCalls;

	private volatile long longestSurvivedMillis;

	private volatile long longestSurvivedAtMillis = Long.MIN_VALUE / 2;

	/** Survived silences that were the longest in the window when they ended. Guarded by this. */
	private final Samples survived = new Samples(32);

	/** The latest deaths, as a ring. Guarded by this. */
	private final long[] deathMillis = new long[CAPACITY];

	private final long[] deathAtMillis = new long[CAPACITY];

	private final int[] deathFlags = new int[CAPACITY];

	private final CloseReason[] deathReasons = new CloseReason[CAPACITY];

	private final String[] deathIds = new String[CAPACITY];

	private int next;

	private int size;

	private static final int AFTER_WRITE = 1;

	private static final int WITH_CALLS = 2;

	private static final int CHURN = 4;

	/**
	 * A watch of the server's connections.
	 * @param time the server's keepalive time
	 */
	static IdlePathWatch server(KeepAliveAdvisor advisor, DurationSetting time) {
		return new IdlePathWatch(advisor, Side.SERVER, time, time.property(), null, false);
	}

	/**
	 * A watch of one channel's connections.
	 * @param propertyPrefix the channel's property prefix, such as {@code grpc.keepalive.client.channels.prices}
	 */
	static IdlePathWatch channel(KeepAliveAdvisor advisor, DurationSetting time, String propertyPrefix,
			boolean withoutCalls) {
		return new IdlePathWatch(advisor, Side.CLIENT, time, propertyPrefix + ".time",
				propertyPrefix + ".without-calls", withoutCalls);
	}

	private IdlePathWatch(KeepAliveAdvisor advisor, Side side, DurationSetting time, String timeProperty,
			@Nullable String withoutCallsProperty, boolean withoutCalls) {
		this.advisor = advisor;
		this.side = side;
		this.time = time;
		this.timeProperty = timeProperty;
		this.withoutCallsProperty = withoutCallsProperty;
		this.withoutCalls = withoutCalls;
	}

	@Override
	public void silenceSurvived(ConnectionTrackerView tracker, long connection, long silenceNanos,
			boolean withCalls) {
		long millis = Durations.millis(silenceNanos);
		long now = this.advisor.clock().millis();
		long window = this.advisor.window().toMillis();
		if (millis <= this.longestSurvivedMillis && now - this.longestSurvivedAtMillis <= window) {
			return;
		}
		synchronized (this) {
			if (millis > this.longestSurvivedMillis || now - this.longestSurvivedAtMillis > window) {
				this.longestSurvivedMillis = millis;
				this.longestSurvivedAtMillis = now;
			}
			this.survived.add(millis, now);
		}
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		SilenceBeforeClose silence = connection.silenceBeforeClose();
		CloseReason reason = connection.closeReason();
		if (silence == null || connection.lastGoAwayReceived() != null || reason == null || !isSilentDeath(reason)) {
			return;
		}
		long millis = Durations.millis(silence.nanos());
		boolean churn = this.side == Side.SERVER && reason == CloseReason.PEER_CLOSED && !silence.afterWrite()
				&& isPoolChurn(tracker, connection, millis);
		long now = this.advisor.clock().millis();
		synchronized (this) {
			int slot = this.next;
			this.deathMillis[slot] = millis;
			this.deathAtMillis[slot] = now;
			this.deathFlags[slot] = (silence.afterWrite() ? AFTER_WRITE : 0) | (silence.withCalls() ? WITH_CALLS : 0)
					| (churn ? CHURN : 0);
			this.deathReasons[slot] = reason;
			this.deathIds[slot] = connection.id();
			this.next = (slot + 1) % CAPACITY;
			this.size = Math.min(this.size + 1, CAPACITY);
			report(tracker, now);
		}
	}

	/** The closes a dropped path causes: no GOAWAY explains them. */
	static boolean isSilentDeath(@Nullable CloseReason reason) {
		return reason == CloseReason.PEER_CLOSED || reason == CloseReason.ERROR
				|| reason == CloseReason.KEEPALIVE_TIMEOUT;
	}

	/**
	 * Whether the client closed this connection in an orderly way while, from the same host,
	 * it kept another connection busy or opened a new one during this one's silence: what a
	 * proxy does with its pool (nginx closes upstream connections beyond its keepalive pool),
	 * not what a middlebox's idle timer does. Only connections open for
	 * {@link #RECONNECT_MARGIN} or more count: a client reconnecting as this one died is not
	 * keeping another one busy. Server side only: on a channel, new connections are this
	 * application's own reconnects.
	 */
	static boolean isPoolChurn(ConnectionTrackerView tracker, ConnectionSnapshot dying, long silenceMillis) {
		InetAddress host = host(dying.remote());
		if (host == null) {
			return false;
		}
		long silenceNanos = silenceMillis * 1_000_000L;
		for (ConnectionSnapshot other : tracker.openConnections()) {
			if (!other.id().equals(dying.id()) && other.ageNanos() >= RECONNECT_MARGIN.toNanos()
					&& host.equals(host(other.remote()))
					&& (other.activeCalls() > 0 || other.idleNanos() < silenceNanos || other.ageNanos() < silenceNanos)) {
				return true;
			}
		}
		return false;
	}

	private static @Nullable InetAddress host(@Nullable SocketAddress address) {
		return (address instanceof InetSocketAddress inet) ? inet.getAddress() : null;
	}

	private void report(ConnectionTrackerView tracker, long now) {
		long since = now - this.advisor.window().toMillis();
		long longestSurvived = 0;
		for (long survivedMillis : this.survived.since(since)) {
			longestSurvived = Math.max(longestSurvived, survivedMillis);
		}
		List<Integer> timer = new ArrayList<>();
		List<Integer> lostWrites = new ArrayList<>();
		int contradicted = 0;
		int churn = 0;
		int pauses = 0;
		int deaths = 0;
		for (int i = 0; i < this.size; i++) {
			if (this.deathAtMillis[i] < since) {
				continue;
			}
			deaths++;
			long millis = this.deathMillis[i];
			if ((this.deathFlags[i] & CHURN) != 0) {
				churn++;
			}
			else if (millis <= longestSurvived) {
				contradicted++;
			}
			else if (millis < MIN_IDLE_TIMEOUT.toMillis()) {
				pauses++;
			}
			else if ((this.deathFlags[i] & AFTER_WRITE) != 0) {
				lostWrites.add(i);
			}
			else {
				timer.add(i);
			}
		}
		List<Integer> agreeing = agreeing(timer);
		List<Integer> consistent = new ArrayList<>(agreeing);
		long timerMillis = agreeing.isEmpty() ? 0 : this.deathMillis[agreeing.get(0)];
		for (int i : lostWrites) {
			// a write after a silence at least as long as the timer's finds the connection gone: consistent
			if (agreeing.isEmpty() || this.deathMillis[i] * TOLERANCE >= timerMillis) {
				consistent.add(i);
			}
		}
		boolean timerSeen = !agreeing.isEmpty();
		if (consistent.size() < MIN_DEATHS || (!timerSeen && longestSurvived == 0)) {
			return;
		}

		List<Long> all = new ArrayList<>();
		List<Long> withCallsMillis = new ArrayList<>();
		List<String> examples = new ArrayList<>();
		Map<String, Integer> reasons = new TreeMap<>();
		int afterWrite = 0;
		int withCalls = 0;
		for (int i : consistent) {
			long millis = this.deathMillis[i];
			all.add(millis);
			if ((this.deathFlags[i] & AFTER_WRITE) != 0) {
				afterWrite++;
			}
			if ((this.deathFlags[i] & WITH_CALLS) != 0) {
				withCalls++;
				withCallsMillis.add(millis);
			}
			reasons.merge(this.deathReasons[i].tag(), 1, Integer::sum);
			if (examples.size() < MAX_EXAMPLES) {
				examples.add(this.deathIds[i]);
			}
		}
		int count = all.size();
		int betweenCalls = count - withCalls;
		long upper = min(all);
		long lower = longestSurvived;
		long atMost = Math.round(upper * TOLERANCE);
		List<Middlebox> candidates = Middlebox.within(lower, atMost);
		// A death during the silence is the middlebox's own timer going off: that silence is its
		// idle timeout. A death on the first write after a silence only bounds the timeout from above.
		long base = timerSeen ? timerMillis : lower;
		Duration suggested = Durations.floorNice((long) (base * MARGIN));

		// the key pausesUnder2s names MIN_IDLE_TIMEOUT
		Evidence evidence = new Evidence.IdleConnectionsDropped(count, Durations.stats(toArray(all)),
				count - afterWrite, afterWrite, withCalls, betweenCalls, reasons,
				new Evidence.IdleConnectionsDropped.Discounted(churn, contradicted, pauses,
						deaths - count - churn - contradicted - pauses),
				(lower > 0) ? lower : null,
				new Evidence.IdleConnectionsDropped.Bracket(
						(lower > 0) ? Durations.text(Duration.ofMillis(lower)) : "unknown",
						Durations.text(Duration.ofMillis(atMost))),
				candidates.stream().map(Middlebox::describe).toList(), Durations.text(this.time.effective()), examples);

		String bracketText = ((lower > 0) ? "longer than " + Durations.text(Duration.ofMillis(lower)) + " and " : "")
				+ "at most " + Durations.text(Duration.ofMillis(atMost));
		String middleboxes = candidates.isEmpty()
				? "none of the defaults commonly documented (docs/tuning.md) falls in it: a configured timeout "
						+ "(a proxy's, a firewall's) or a carrier-grade NAT"
				: "documented defaults in it: " + String.join(", ", candidates.stream().map(Middlebox::describe).toList());
		String summary = count + " connection(s) died after a silence of " + Durations.text(Duration.ofMillis(upper))
				+ " or more with no frame either way and no GOAWAY (" + reasonsText(reasons)
				+ (timerSeen ? "; the silences agree, as an idle timer's do" : "; each right after a write")
				+ "): something on the path drops connections idle for " + bracketText + "; " + middleboxes + ".";
		boolean keepsAlive = this.time.isEnabled() && this.time.effective() != null
				&& this.time.effective().toMillis() <= suggested.toMillis();
		Recommendation recommendation = (suggested.compareTo(GRPC_JAVA_MIN_TIME) >= 0)
				? recommendation(suggested, base, timerSeen, betweenCalls > 0, keepsAlive)
				: middleboxRecommendation(upper, base, timerSeen, withCalls > 0);
		this.advisor.report(FindingType.IDLE_CONNECTIONS_DROPPED, Severity.WARNING, this.side, tracker.name(), "path",
				summary, evidence, recommendation);

		if (this.side == Side.CLIENT && !this.time.isEnabled() && withCalls > 0) {
			reportNoKeepAlive(tracker, withCallsMillis, withCalls, betweenCalls, upper, examples);
		}
	}

	/**
	 * The largest group of deaths during silence whose silences agree, the shortest first
	 * (of two groups as large, the one with the shorter silences).
	 */
	private List<Integer> agreeing(List<Integer> timer) {
		List<Integer> sorted = new ArrayList<>(timer);
		sorted.sort((a, b) -> Long.compare(this.deathMillis[a], this.deathMillis[b]));
		int bestFrom = 0;
		int bestSize = 0;
		int to = 0;
		for (int from = 0; from < sorted.size(); from++) {
			long shortest = this.deathMillis[sorted.get(from)];
			to = Math.max(to, from);
			while (to < sorted.size() && this.deathMillis[sorted.get(to)] <= shortest * AGREEMENT) {
				to++;
			}
			if (to - from > bestSize) {
				bestSize = to - from;
				bestFrom = from;
			}
		}
		return sorted.subList(bestFrom, bestFrom + bestSize);
	}

	private Recommendation recommendation(Duration suggested, long base, boolean timerSeen, boolean betweenCalls,
			boolean keepsAlive) {
		List<Recommendation.Change> also = new ArrayList<>();
		// the without-calls property to set too, or null
		String withoutCallsToSet = (betweenCalls && !this.withoutCalls) ? this.withoutCallsProperty : null;
		if (withoutCallsToSet != null) {
			also.add(new Recommendation.Change(withoutCallsToSet, "false", "true"));
		}
		String basis = timerSeen ? "80% of the silence the path closed connections in"
				: "80% of the longest silence that survived below the shortest that killed";
		String text = "set " + this.timeProperty + " to " + Durations.text(suggested) + " (" + basis + ", "
				+ Durations.text(Duration.ofMillis(base)) + ")";
		if (withoutCallsToSet != null) {
			text += " and " + withoutCallsToSet + " to true (connections died between calls; the server "
					+ "must permit it: grpc.keepalive.server.permit-without-calls true, permit-time at most "
					+ Durations.text(suggested) + ")";
		}
		if (keepsAlive) {
			text += "; the keepalive time in force, " + Durations.text(this.time.effective())
					+ ", is already below it: check that the peer answers PINGs and that the middlebox counts them "
					+ "as traffic";
		}
		String instead = (this.side == Side.SERVER)
				? "have the clients ping (their keepalive time below the idle timeout, with keepalive-without-calls), "
						+ "or set grpc.keepalive.server.max-connection-idle below it so that the server closes idle "
						+ "connections with a GOAWAY first, or raise the middlebox's idle timeout (docs/tuning.md)"
				: "have the server ping (grpc.keepalive.server.time below the idle timeout), or raise the "
						+ "middlebox's idle timeout (docs/tuning.md)";
		return new Recommendation(this.timeProperty, Durations.text(this.time.effective()),
				Durations.text(suggested), also, instead, text + ", or " + instead + ".");
	}

	/**
	 * The path drops connections sooner than grpc-java can ping (10s, so an idle timeout under
	 * 12.5s): no keepalive time can keep it open. The middlebox's idle timeout must be more
	 * than 12.5s, after which a keepalive time of 10s does; on the server, until then,
	 * max-connection-idle can close connections idle between calls with a GOAWAY first.
	 */
	private Recommendation middleboxRecommendation(long shortestKill, long base, boolean timerSeen,
			boolean withCalls) {
		Duration needed = Duration.ofMillis(Math.round(GRPC_JAVA_MIN_TIME.toMillis() / MARGIN));
		List<Recommendation.Change> also = new ArrayList<>();
		if (!GRPC_JAVA_MIN_TIME.equals(this.time.effective())) {
			also.add(new Recommendation.Change(this.timeProperty, Durations.text(this.time.effective()),
					Durations.text(GRPC_JAVA_MIN_TIME)));
		}
		if (this.withoutCallsProperty != null && !this.withoutCalls) {
			also.add(new Recommendation.Change(this.withoutCallsProperty, "false", "true"));
		}
		Duration idle = Durations.floorNice((long) (base * MARGIN));
		String instead = null;
		if (this.side == Side.SERVER && idle.compareTo(GRPC_JAVA_MIN_IDLE) >= 0) {
			instead = "set grpc.keepalive.server.max-connection-idle to " + Durations.text(idle)
					+ " so that the server closes connections idle between calls with a GOAWAY before the path drops "
					+ "them" + (withCalls ? " (it does not help the connections that died with calls in flight)" : "");
		}
		else if (this.side == Side.CLIENT) {
			instead = "have the server close idle connections first (grpc.keepalive.server.max-connection-idle under "
					+ Durations.text(Duration.ofMillis(shortestKill)) + ")";
		}
		String text = "raise the " + MIDDLEBOX_IDLE_TIMEOUT + " to more than " + Durations.text(needed)
				+ " and set " + this.timeProperty + " to " + Durations.text(GRPC_JAVA_MIN_TIME)
				+ ": the path drops connections idle for " + (timerSeen ? "" : "at most ")
				+ Durations.text(Duration.ofMillis(shortestKill))
				+ ", and grpc-java raises a keepalive time under 10s to 10s, so no keepalive time keeps it open"
				+ ((instead != null) ? "; or " + instead : "") + ".";
		return new Recommendation(MIDDLEBOX_IDLE_TIMEOUT, "at most " + Durations.text(Duration.ofMillis(
				Math.round(shortestKill * TOLERANCE))), Durations.text(needed), also, instead, text, true, null);
	}

	private void reportNoKeepAlive(ConnectionTrackerView tracker, List<Long> withCallsMillis, int withCalls,
			int betweenCalls, long shortestKill, List<String> examples) {
		Duration computed = Durations.floorNice((long) (shortestKill * MARGIN));
		Duration suggested = (computed.compareTo(GRPC_JAVA_MIN_TIME) < 0) ? GRPC_JAVA_MIN_TIME : computed;
		Evidence evidence = new Evidence.NoKeepAliveOnIdlePath("disabled", withCalls, betweenCalls,
				Durations.stats(toArray(withCallsMillis)), shortestKill, examples);
		List<Recommendation.Change> also = new ArrayList<>();
		if (betweenCalls > 0 && this.withoutCallsProperty != null && !this.withoutCalls) {
			also.add(new Recommendation.Change(this.withoutCallsProperty, "false", "true"));
		}
		String text = "set " + this.timeProperty + " to " + Durations.text(suggested)
				+ " (80% of the shortest silence that killed a connection, " + Durations.text(Duration.ofMillis(shortestKill))
				+ ", at least grpc-java's 10s)";
		if (!also.isEmpty()) {
			text += " and " + this.withoutCallsProperty + " to true (connections also died between calls; the server "
					+ "must permit it: grpc.keepalive.server.permit-without-calls true)";
		}
		if (computed.compareTo(GRPC_JAVA_MIN_TIME) < 0) {
			text += "; 10s lets the channel notice a dropped connection, but is still longer than this path keeps "
					+ "idle connections: raise the middlebox's idle timeout too";
		}
		String instead = "have the server ping (grpc.keepalive.server.time below the idle timeout), which keeps the "
				+ "path open but does not let this channel notice a dead connection";
		String summary = "Calls in flight lost their connection after " + Durations.text(Duration.ofMillis(
				min(withCallsMillis))) + " without a frame, on a channel without keepalive (" + withCalls
				+ " connection(s)): nothing kept the path of the idle streams open.";
		this.advisor.report(FindingType.NO_KEEPALIVE_ON_IDLE_PATH, Severity.WARNING, Side.CLIENT, tracker.name(),
				"keepalive-disabled", summary, evidence, new Recommendation(this.timeProperty, "disabled",
						Durations.text(suggested), also, instead, text + ", or " + instead + "."));
	}

	private static String reasonsText(Map<String, Integer> reasons) {
		List<String> parts = new ArrayList<>();
		reasons.forEach((reason, count) -> parts.add(reason + " " + count));
		return String.join(", ", parts);
	}

	private static long min(List<Long> values) {
		long min = Long.MAX_VALUE;
		for (long value : values) {
			min = Math.min(min, value);
		}
		return min;
	}

	private static long[] toArray(List<Long> values) {
		return values.stream().mapToLong(Long::longValue).toArray();
	}

}
