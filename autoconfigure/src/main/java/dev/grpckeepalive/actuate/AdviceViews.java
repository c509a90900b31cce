package dev.grpckeepalive.actuate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.grpckeepalive.advisor.Finding;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.advisor.Recommendation;
import dev.grpckeepalive.advisor.Severity;
import dev.grpckeepalive.config.DurationFormat;

/** The JSON views of the keepalive advisor's findings, as docs/actuator.md documents them. */
final class AdviceViews {

	private AdviceViews() {
	}

	/** The summary endpoint's {@code advice}: the window and the number of findings by severity. */
	static Map<String, Object> summary(KeepAliveAdvisor advisor) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("window", DurationFormat.format(advisor.window()));
		Map<Severity, Integer> counts = advisor.countBySeverity();
		Map<String, Object> findings = new LinkedHashMap<>();
		counts.forEach((severity, count) -> findings.put(severity.tag(), count));
		view.put("findings", findings);
		return view;
	}

	/** Every current finding, newest first. */
	static List<Map<String, Object>> findings(KeepAliveAdvisor advisor) {
		return advisor.findings().stream().map(AdviceViews::finding).toList();
	}

	private static Map<String, Object> finding(Finding finding) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("type", finding.type().tag());
		view.put("severity", finding.severity().tag());
		view.put("side", finding.side().tag());
		view.put("channel", finding.channel());
		view.put("subject", finding.subject());
		view.put("summary", finding.summary());
		view.put("firstSeen", finding.firstSeen().toString());
		view.put("lastSeen", finding.lastSeen().toString());
		view.put("occurrences", finding.occurrences());
		view.put("expires", !finding.persistent());
		view.put("evidence", finding.evidence());
		view.put("recommendation", recommendation(finding.recommendation()));
		return view;
	}

	private static Map<String, Object> recommendation(Recommendation recommendation) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("property", recommendation.property());
		view.put("current", recommendation.current());
		view.put("suggested", recommendation.suggested());
		if (recommendation.lowerBound()) {
			view.put("lowerBound", true);
		}
		if (recommendation.safeAlternative() != null) {
			view.put("safeAlternative", recommendation.safeAlternative());
		}
		if (!recommendation.alsoSet().isEmpty()) {
			view.put("alsoSet", recommendation.alsoSet().stream().map((change) -> {
				Map<String, Object> changeView = new LinkedHashMap<>();
				changeView.put("property", change.property());
				changeView.put("current", change.current());
				changeView.put("suggested", change.suggested());
				return changeView;
			}).toList());
		}
		if (recommendation.instead() != null) {
			view.put("instead", recommendation.instead());
		}
		view.put("text", recommendation.text());
		return view;
	}

}
