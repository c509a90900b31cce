package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.LinkedHashMap;
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
 * silence (no frame either way) without a GOAWAY from the peer, closed {@code peer_closed},
 * {@code error} or {@code keepalive_timeout}, point at something on the path that drops idle
 * connections. The frame observer measures each connection's silences: one that ends with
 * the peer's frames <em>survived</em>; the one a connection dies in (or, when it dies right
 * after this side wrote, or its keepalive PING timed out, the one before that write)
 * <em>killed</em>. The middlebox's idle timeout lies above the longest silence that survived
 * and at most the shortest that killed.
 *
 * <p>Called on event loops once per silence of a second or more that survives (only when it
 * is the longest in the window: lock-free check first) and once per close. Bounded: the
 * latest {@value #CAPACITY} deaths, 32 record silences, 3 example connections.
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

	/** grpc-java raises a keepalive time under this to this. */
	static final Duration GRPC_JAVA_MIN_TIME = Duration.ofSeconds(10);

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

	private int next;

	private int size;

	private final List<String> examples = new ArrayList<>(MAX_EXAMPLES);

	private static final int AFTER_WRITE = 1;

	private static final int WITH_CALLS = 2;

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
		if (silence == null || connection.lastGoAwayReceived() != null || !isSilentDeath(reason)) {
			return;
		}
		long now = this.advisor.clock().millis();
		synchronized (this) {
			int slot = this.next;
			this.deathMillis[slot] = Durations.millis(silence.nanos());
			this.deathAtMillis[slot] = now;
			this.deathFlags[slot] = (silence.afterWrite() ? AFTER_WRITE : 0) | (silence.withCalls() ? WITH_CALLS : 0);
			this.deathReasons[slot] = reason;
			this.next = (slot + 1) % CAPACITY;
			this.size = Math.min(this.size + 1, CAPACITY);
			if (this.examples.size() == MAX_EXAMPLES) {
				this.examples.remove(0);
			}
			this.examples.add(connection.id());
			report(tracker, now);
		}
	}

	/** The closes a dropped path causes: no GOAWAY explains them. */
	static boolean isSilentDeath(@Nullable CloseReason reason) {
		return reason == CloseReason.PEER_CLOSED || reason == CloseReason.ERROR
				|| reason == CloseReason.KEEPALIVE_TIMEOUT;
	}

	private void report(ConnectionTrackerView tracker, long now) {
		long since = now - this.advisor.window().toMillis();
		List<Long> all = new ArrayList<>();
		List<Long> duringSilence = new ArrayList<>();
		List<Long> withCallsMillis = new ArrayList<>();
		int afterWrite = 0;
		int withCalls = 0;
		Map<String, Integer> reasons = new TreeMap<>();
		for (int i = 0; i < this.size; i++) {
			if (this.deathAtMillis[i] < since) {
				continue;
			}
			long millis = this.deathMillis[i];
			all.add(millis);
			if ((this.deathFlags[i] & AFTER_WRITE) != 0) {
				afterWrite++;
			}
			else {
				duringSilence.add(millis);
			}
			if ((this.deathFlags[i] & WITH_CALLS) != 0) {
				withCalls++;
				withCallsMillis.add(millis);
			}
			reasons.merge(this.deathReasons[i].tag(), 1, Integer::sum);
		}
		if (all.isEmpty()) {
			return;
		}
		int deaths = all.size();
		int betweenCalls = deaths - withCalls;
		long upper = min(all);
		long lower = 0;
		int contradicting = 0;
		for (long survivedMillis : this.survived.since(since)) {
			if (survivedMillis < upper) {
				lower = Math.max(lower, survivedMillis);
			}
			else {
				contradicting++;
			}
		}
		long atMost = Math.round(upper * TOLERANCE);
		List<Middlebox> candidates = Middlebox.within(lower, atMost);
		// A death during the silence is the middlebox's own timer going off: that silence is its
		// idle timeout. A death on the first write after a silence only bounds the timeout from above.
		long base = !duringSilence.isEmpty() ? min(duringSilence) : (lower > 0) ? lower : upper;
		Duration suggested = Durations.floorNice((long) (base * MARGIN));

		Map<String, Object> evidence = new LinkedHashMap<>();
		evidence.put("deaths", deaths);
		evidence.put("killingSilenceMillis", Durations.stats(toArray(all)));
		evidence.put("diedDuringSilence", duringSilence.size());
		evidence.put("diedRightAfterWritingAfterSilence", afterWrite);
		evidence.put("withCallsInFlight", withCalls);
		evidence.put("betweenCalls", betweenCalls);
		evidence.put("closeReasons", reasons);
		if (lower > 0) {
			evidence.put("longestSurvivedSilenceMillis", lower);
		}
		if (contradicting > 0) {
			evidence.put("survivedSilencesAtLeastAsLong", contradicting);
		}
		Map<String, String> bracket = new LinkedHashMap<>();
		bracket.put("longerThan", (lower > 0) ? Durations.text(Duration.ofMillis(lower)) : "unknown");
		bracket.put("atMost", Durations.text(Duration.ofMillis(atMost)));
		evidence.put("idleTimeoutBracket", bracket);
		evidence.put("documentedIdleTimeoutsInBracket", candidates.stream().map(Middlebox::describe).toList());
		evidence.put("keepaliveTime", Durations.text(this.time.effective()));
		evidence.put("connections", List.copyOf(this.examples));

		String bracketText = ((lower > 0) ? "longer than " + Durations.text(Duration.ofMillis(lower)) + " and " : "")
				+ "at most " + Durations.text(Duration.ofMillis(atMost));
		String middleboxes = candidates.isEmpty()
				? "none of the defaults commonly documented (docs/tuning.md) falls in it: a configured timeout "
						+ "(a proxy's, a firewall's) or a carrier-grade NAT"
				: "documented defaults in it: " + String.join(", ", candidates.stream().map(Middlebox::describe).toList());
		String summary = deaths + " connection(s) died after a silence of " + Durations.text(Duration.ofMillis(upper))
				+ ((deaths > 1) ? " or more" : "") + " with no frame either way and no GOAWAY ("
				+ reasonsText(reasons) + "): something on the path drops connections idle for " + bracketText
				+ "; " + middleboxes + ".";
		boolean keepsAlive = this.time.isEnabled() && this.time.effective() != null
				&& this.time.effective().toMillis() <= suggested.toMillis();
		Recommendation recommendation = recommendation(suggested, base, !duringSilence.isEmpty(), betweenCalls > 0,
				keepsAlive);
		this.advisor.report(FindingType.IDLE_CONNECTIONS_DROPPED, Severity.WARNING, this.side, tracker.name(), "path",
				summary, evidence, recommendation);

		if (this.side == Side.CLIENT && !this.time.isEnabled() && withCalls > 0) {
			reportNoKeepAlive(tracker, withCallsMillis, withCalls, betweenCalls, upper);
		}
	}

	private Recommendation recommendation(Duration suggested, long base, boolean timerSeen, boolean betweenCalls,
			boolean keepsAlive) {
		List<Recommendation.Change> also = new ArrayList<>();
		boolean needWithoutCalls = this.withoutCallsProperty != null && betweenCalls && !this.withoutCalls;
		if (needWithoutCalls) {
			also.add(new Recommendation.Change(this.withoutCallsProperty, "false", "true"));
		}
		String basis = timerSeen ? "80% of the shortest silence the path closed a connection in"
				: "80% of the longest silence that survived below the shortest that killed";
		String text = "set " + this.timeProperty + " to " + Durations.text(suggested) + " (" + basis + ", "
				+ Durations.text(Duration.ofMillis(base)) + ")";
		if (needWithoutCalls) {
			text += " and " + this.withoutCallsProperty + " to true (connections died between calls; the server "
					+ "must permit it: grpc.keepalive.server.permit-without-calls true, permit-time at most "
					+ Durations.text(suggested) + ")";
		}
		if (suggested.compareTo(GRPC_JAVA_MIN_TIME) < 0) {
			text += "; grpc-java raises a keepalive time under 10s to 10s, which would still be longer than this "
					+ "path keeps idle connections: raise the middlebox's idle timeout instead";
		}
		else if (keepsAlive) {
			text += "; the keepalive time in force, " + Durations.text(this.time.effective())
					+ ", is already below it: check that the peer answers PINGs and that the middlebox counts them "
					+ "as traffic";
		}
		boolean belowGrpcJava = suggested.compareTo(GRPC_JAVA_MIN_TIME) < 0;
		// below grpc-java's minimum the text already says to raise the middlebox's timeout: not twice
		String raiseMiddlebox = belowGrpcJava ? "" : ", or raise the middlebox's idle timeout (docs/tuning.md)";
		String instead = (this.side == Side.SERVER)
				? "have the clients ping (their keepalive time below the idle timeout, with keepalive-without-calls), "
						+ "or set grpc.keepalive.server.max-connection-idle below it so that the server closes idle "
						+ "connections with a GOAWAY first" + raiseMiddlebox
				: "have the server ping (grpc.keepalive.server.time below the idle timeout)" + raiseMiddlebox;
		return new Recommendation(this.timeProperty, Durations.text(this.time.effective()),
				Durations.text(suggested), also, instead, text + ", or " + instead + ".");
	}

	private void reportNoKeepAlive(ConnectionTrackerView tracker, List<Long> withCallsMillis, int withCalls,
			int betweenCalls, long shortestKill) {
		Duration computed = Durations.floorNice((long) (shortestKill * MARGIN));
		Duration suggested = (computed.compareTo(GRPC_JAVA_MIN_TIME) < 0) ? GRPC_JAVA_MIN_TIME : computed;
		Map<String, Object> evidence = new LinkedHashMap<>();
		evidence.put("keepaliveTime", "disabled");
		evidence.put("deathsWithCallsInFlight", withCalls);
		evidence.put("deathsBetweenCalls", betweenCalls);
		evidence.put("silenceWithCallsMillis", Durations.stats(toArray(withCallsMillis)));
		evidence.put("shortestKillingSilenceMillis", shortestKill);
		evidence.put("connections", List.copyOf(this.examples));
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
			text += "; 10s is still longer than this path keeps idle connections: raise the middlebox's idle timeout "
					+ "too";
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
