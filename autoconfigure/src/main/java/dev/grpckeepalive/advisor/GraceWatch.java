package dev.grpckeepalive.advisor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;

/**
 * Finding {@code grace_too_short}: a server connection closed {@code max_age} while calls were
 * still running, so {@code max-connection-age-grace} ran out before they ended and they were
 * cut (the clients see {@code UNAVAILABLE}). The connection's record knows each call's start,
 * and hands the ages of the calls still in flight with its final snapshot.
 *
 * <p>Called on event loops once per close; bounded: the latest 64 cut calls, 3 example connections.
 */
final class GraceWatch implements ConnectionTrackerView.ConnectionListener {

	private static final int MAX_EXAMPLES = 3;

	/** The grace suggested: the longest cut call's age with this margin, rounded up. */
	static final double MARGIN = 1.5;

	private final KeepAliveAdvisor advisor;

	private final ServerKeepAliveSettings settings;

	private final Samples cut = new Samples(64);

	private final List<String> examples = new ArrayList<>(MAX_EXAMPLES);

	private long connectionsCut;

	private long callsCut;

	GraceWatch(KeepAliveAdvisor advisor, ServerKeepAliveSettings settings) {
		this.advisor = advisor;
		this.settings = settings;
	}

	@Override
	public void connectionClosed(ConnectionTrackerView tracker, ConnectionSnapshot connection) {
		if (connection.closeReason() != CloseReason.MAX_AGE || connection.unfinishedCallsAtClose().isEmpty()) {
			return;
		}
		long now = this.advisor.clock().millis();
		synchronized (this) {
			for (Duration age : connection.unfinishedCallsAtClose()) {
				this.cut.add(age.toMillis(), now);
			}
			this.connectionsCut++;
			this.callsCut += connection.unfinishedCallsAtClose().size();
			if (this.examples.size() == MAX_EXAMPLES) {
				this.examples.remove(0);
			}
			this.examples.add(connection.id());
			report(tracker, now);
		}
	}

	private void report(ConnectionTrackerView tracker, long now) {
		long[] ages = this.cut.since(now - this.advisor.window().toMillis());
		long max = 0;
		for (long age : ages) {
			max = Math.max(max, age);
		}
		Duration grace = this.settings.maxConnectionAgeGrace().effective();
		Duration suggested = Durations.ceilNice((long) (max * MARGIN));
		Evidence evidence = new Evidence.GraceTooShort(Durations.stats(ages), this.callsCut, this.connectionsCut,
				this.examples, Durations.text(this.settings.maxConnectionAge().effective()), Durations.text(grace));
		String property = this.settings.maxConnectionAgeGrace().property();
		String instead = "if these calls are long-lived streams by design, let them end with UNAVAILABLE and have the "
				+ "clients reopen them (they reconnect to a fresh connection), or raise "
				+ this.settings.maxConnectionAge().property();
		Recommendation recommendation = new Recommendation(property, Durations.text(grace), Durations.text(suggested),
				List.of(), instead, "set " + property + " to " + Durations.text(suggested)
						+ " (the longest call it cut had run " + Durations.text(Duration.ofMillis(max))
						+ " and had not finished: its full length is longer; 1.5 times that, rounded up), or " + instead
						+ ".");
		String summary = this.callsCut + " call(s) on " + this.connectionsCut + " connection(s) were still running when "
				+ "max-connection-age-grace (" + Durations.text(grace) + " after max-connection-age "
				+ Durations.text(this.settings.maxConnectionAge().effective()) + ") ran out, and were cut with "
				+ "the connection; the longest had run " + Durations.text(Duration.ofMillis(max)) + ".";
		this.advisor.report(FindingType.GRACE_TOO_SHORT, Severity.WARNING, Side.SERVER, tracker.name(), property,
				summary, evidence, recommendation);
	}

}
