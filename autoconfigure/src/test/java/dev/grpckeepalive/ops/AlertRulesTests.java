package dev.grpckeepalive.ops;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.grpckeepalive.test.PrometheusBinaries;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped alert rules (ops/prometheus/grpc-keepalive-alerts.yml) pass Prometheus' own
 * checks and their unit tests ({@code promtool test rules}), and every alert has a test.
 * Skipped where promtool is not installed, a failure in CI.
 */
class AlertRulesTests {

	private static final Path RULES = PrometheusBinaries.OPS.resolve("prometheus/grpc-keepalive-alerts.yml");

	private static final Path RULE_TESTS = PrometheusBinaries.OPS.resolve("prometheus/grpc-keepalive-alerts.test.yml");

	@Test
	void rulesAreValid() throws Exception {
		PrometheusBinaries.requirePromtool("Checking the alert rules");
		assertThat(promtool("check", "rules", RULES.toString())).contains("SUCCESS");
	}

	@Test
	void ruleUnitTestsPass() throws Exception {
		PrometheusBinaries.requirePromtool("Running the alert rules' unit tests");
		assertThat(promtool("test", "rules", RULE_TESTS.toString())).contains("SUCCESS");
	}

	@Test
	void everyAlertHasATestThatFiresIt() throws Exception {
		Set<String> alerts = matches(RULES, "(?m)^\\s*- alert: (\\S+)");
		String tests = Files.readString(RULE_TESTS, StandardCharsets.UTF_8);
		assertThat(alerts).hasSizeGreaterThanOrEqualTo(6);
		for (String alert : alerts) {
			// an expectation with at least one alert, not only exp_alerts: []
			assertThat(tests).as(alert).containsPattern("alertname: " + alert + "\\n\\s*exp_alerts:\\n\\s*- exp_labels");
		}
	}

	@Test
	void everyAlertPointsToATroubleshootingSectionThatExists() throws Exception {
		Path troubleshooting = PrometheusBinaries.OPS.resolveSibling("docs").resolve("troubleshooting.md");
		Set<String> anchors = new LinkedHashSet<>();
		for (String heading : matches(troubleshooting, "(?m)^#{2,3} (.+)$")) {
			// GitHub's anchors: lower case, punctuation dropped, spaces as hyphens
			anchors.add(heading.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
		}
		String rules = Files.readString(RULES, StandardCharsets.UTF_8);
		String[] alerts = rules.split("- alert: ", -1);
		assertThat(java.util.Arrays.asList(alerts).subList(1, alerts.length))
			.allSatisfy((rule) -> assertThat(rule).contains("docs/troubleshooting.md#"));
		Set<String> referenced = matches(RULES, "docs/troubleshooting\\.md#([a-z0-9_-]+)");
		assertThat(referenced).isNotEmpty();
		assertThat(anchors).containsAll(referenced);
	}

	private static Set<String> matches(Path file, String regex) throws Exception {
		Set<String> found = new LinkedHashSet<>();
		Matcher matcher = Pattern.compile(regex).matcher(Files.readString(file, StandardCharsets.UTF_8));
		while (matcher.find()) {
			found.add(matcher.group(1));
		}
		return found;
	}

	private static String promtool(String... arguments) throws Exception {
		String[] command = new String[arguments.length + 1];
		command[0] = "promtool";
		System.arraycopy(arguments, 0, command, 1, arguments.length);
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
		assertThat(process.exitValue()).as("promtool %s exit status; output:%n%s", String.join(" ", arguments), output)
			.isZero();
		return output;
	}

}
