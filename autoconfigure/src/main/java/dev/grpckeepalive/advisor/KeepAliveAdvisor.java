package dev.grpckeepalive.advisor;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.grpckeepalive.connection.Side;

/**
 * The keepalive advisor's findings: the watchers report evidence here, one report per
 * occurrence, and the endpoint and the meter read the findings. A finding is identified by
 * type, side, channel and subject; its first report logs one WARN naming the fix, later ones
 * only update it. A finding whose latest evidence is older than the window expires, unless it
 * is {@linkplain Finding#persistent() persistent} (found in the configuration at startup);
 * evidence seen again after that makes a new finding, with a new WARN.
 *
 * <p>Reports are rare (a strike, a GOAWAY, a slow round trip) and never come per frame.
 * Time comes from an injected clock.
 */
public final class KeepAliveAdvisor {

	private static final Log logger = LogFactory.getLog(KeepAliveAdvisor.class);

	private final Duration window;

	private final Clock clock;

	private final Map<Key, Finding> findings = new ConcurrentHashMap<>();

	/** Where the one WARN line of each new finding goes; tests replace it. */
	Consumer<String> warnings = logger::warn;

	/**
	 * An advisor.
	 * @param window how long a finding's evidence counts
	 * @param clock where time comes from
	 */
	public KeepAliveAdvisor(Duration window, Clock clock) {
		this.window = window;
		this.clock = clock;
	}

	/** How long a finding's evidence counts. */
	public Duration window() {
		return this.window;
	}

	/** The advisor's clock. */
	public Clock clock() {
		return this.clock;
	}

	/**
	 * Reports one occurrence of a finding, with the evidence and the fix as they stand now.
	 * @param type the kind of finding
	 * @param severity how bad it is now
	 * @param side the side it concerns
	 * @param channel the channel name, {@code server} for the server
	 * @param subject what it is about within the channel
	 * @param summary what is wrong
	 * @param evidence the measured figures, replacing the previous ones
	 * @param recommendation the fix
	 */
	public void report(FindingType type, Severity severity, Side side, String channel, String subject, String summary,
			Evidence evidence, Recommendation recommendation) {
		report(type, severity, side, channel, subject, summary, evidence, recommendation, false);
	}

	/** Reports a finding of the configuration, which holds as long as the application runs. */
	public void reportPersistent(FindingType type, Severity severity, Side side, String channel, String subject,
			String summary, Evidence evidence, Recommendation recommendation) {
		report(type, severity, side, channel, subject, summary, evidence, recommendation, true);
	}

	private void report(FindingType type, Severity severity, Side side, String channel, String subject,
			String summary, Evidence evidence, Recommendation recommendation, boolean persistent) {
		Instant now = this.clock.instant();
		boolean[] created = new boolean[1];
		Finding finding = this.findings.compute(new Key(type, side, channel, subject), (key, previous) -> {
			if (previous == null || isExpired(previous, now)) {
				created[0] = true;
				return new Finding(type, severity, side, channel, subject, summary, now, now, 1, evidence, recommendation,
						persistent);
			}
			return new Finding(type, severity, side, channel, subject, summary, previous.firstSeen(), now,
					previous.occurrences() + 1, evidence, recommendation, persistent);
		});
		if (created[0]) {
			this.warnings.accept("Keepalive advisor: " + finding.severity().tag() + " " + type.tag() + " on " + side.tag()
					+ ((side == Side.SERVER) ? "" : " channel '" + channel + "'") + " (" + subject + "): " + summary
					+ " Fix: " + recommendation.text());
		}
	}

	/** The findings whose evidence is within the window, newest (latest evidence) first. */
	public List<Finding> findings() {
		Instant now = this.clock.instant();
		this.findings.values().removeIf((finding) -> isExpired(finding, now));
		List<Finding> current = new ArrayList<>(this.findings.values());
		current.sort(Comparator.comparing(Finding::lastSeen).thenComparing(Finding::firstSeen).reversed());
		return current;
	}

	/** How many findings there are of each severity. */
	public Map<Severity, Integer> countBySeverity() {
		Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
		for (Severity severity : Severity.values()) {
			counts.put(severity, 0);
		}
		findings().forEach((finding) -> counts.merge(finding.severity(), 1, Integer::sum));
		return counts;
	}

	/** How many current findings have these tags: the value of the meter {@code grpc.keepalive.advice.findings}. */
	public int count(FindingType type, Severity severity, Side side, String channel) {
		Instant now = this.clock.instant();
		int count = 0;
		for (Finding finding : this.findings.values()) {
			if (finding.type() == type && finding.severity() == severity && finding.side() == side
					&& finding.channel().equals(channel) && !isExpired(finding, now)) {
				count++;
			}
		}
		return count;
	}

	private boolean isExpired(Finding finding, Instant now) {
		return !finding.persistent() && finding.lastSeen().plus(this.window).isBefore(now);
	}

	private record Key(FindingType type, Side side, String channel, String subject) {
	}

}
