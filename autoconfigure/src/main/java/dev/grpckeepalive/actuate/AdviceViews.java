package dev.grpckeepalive.actuate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.advisor.Evidence;
import dev.grpckeepalive.advisor.Finding;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.advisor.Recommendation;
import dev.grpckeepalive.config.DurationFormat;

/**
 * The endpoint's descriptors of the keepalive advisor's findings, as docs/actuator.md
 * documents them. Records, in the order of the JSON's keys (see {@link ConnectionViews}).
 */
final class AdviceViews {

	private AdviceViews() {
	}

	/**
	 * The summary endpoint's {@code advice}.
	 * @param window how long a finding's evidence counts
	 * @param findings the number of findings by severity, every severity present
	 */
	record AdviceSummaryDescriptor(String window, Map<String, Integer> findings) {
	}

	/** One finding; {@code expires} is whether it expires with the window (not found in the configuration). */
	record FindingDescriptor(String type, String severity, String side, String channel, String subject, String summary,
			String firstSeen, String lastSeen, long occurrences, boolean expires, Evidence evidence,
			RecommendationDescriptor recommendation) {
	}

	/**
	 * A finding's fix. {@code current} is {@code null} when unknown; {@code lowerBound} appears
	 * only when {@code true}, {@code safeAlternative} and {@code instead} only when there is one,
	 * {@code alsoSet} only when not empty. A {@link Recommendation.Change} is written as it is:
	 * its components are the keys {@code property}, {@code current}, {@code suggested}.
	 */
	record RecommendationDescriptor(String property, @Nullable String current, String suggested,
			@JsonInclude(Include.NON_NULL) @Nullable Boolean lowerBound,
			@JsonInclude(Include.NON_NULL) @Nullable String safeAlternative,
			@JsonInclude(Include.NON_NULL) @Nullable List<Recommendation.Change> alsoSet,
			@JsonInclude(Include.NON_NULL) @Nullable String instead, String text) {
	}

	/** The summary endpoint's {@code advice}: the window and the number of findings by severity. */
	static AdviceSummaryDescriptor summary(KeepAliveAdvisor advisor) {
		Map<String, Integer> findings = new LinkedHashMap<>();
		advisor.countBySeverity().forEach((severity, count) -> findings.put(severity.tag(), count));
		return new AdviceSummaryDescriptor(DurationFormat.format(advisor.window()), findings);
	}

	/** Every current finding, newest first. */
	static List<FindingDescriptor> findings(KeepAliveAdvisor advisor) {
		return advisor.findings().stream().map(AdviceViews::finding).toList();
	}

	private static FindingDescriptor finding(Finding finding) {
		return new FindingDescriptor(finding.type().tag(), finding.severity().tag(), finding.side().tag(),
				finding.channel(), finding.subject(), finding.summary(), finding.firstSeen().toString(),
				finding.lastSeen().toString(), finding.occurrences(), !finding.persistent(), finding.evidence(),
				recommendation(finding.recommendation()));
	}

	private static RecommendationDescriptor recommendation(Recommendation recommendation) {
		return new RecommendationDescriptor(recommendation.property(), recommendation.current(),
				recommendation.suggested(), recommendation.lowerBound() ? Boolean.TRUE : null,
				recommendation.safeAlternative(), recommendation.alsoSet().isEmpty() ? null : recommendation.alsoSet(),
				recommendation.instead(), recommendation.text());
	}

}
