package dev.grpckeepalive.actuate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The table "Prometheus names" of docs/metrics.md is what a Prometheus registry renders: every
 * documented series is there with its documented type, in the text format and in
 * OpenMetrics, and nothing else named {@code grpc_keepalive_*} is.
 */
class PrometheusNamesTests {

	private static final Path METRICS_MD = Path.of("..", "docs", "metrics.md");

	private static final Pattern ROW = Pattern.compile("^\\| `(grpc\\.keepalive\\.[a-z.]+)` \\| (\\w+) \\|(.*)\\|$");

	private static final Pattern NAME = Pattern.compile("`(grpc_keepalive_\\w+)`( \\([^)]*\\))?");

	private static final Pattern SAMPLE = Pattern.compile("(?m)^(grpc_keepalive_\\w+)\\{");

	@Test
	void everyMeterRendersAsDocumented() throws Exception {
		assertRendersAsDocumented(false);
	}

	@Test
	void withBucketBoundariesTheTimersRenderAsHistograms() throws Exception {
		assertRendersAsDocumented(true);
	}

	@Test
	void theBucketBoundariesDocumentedRenderAsBuckets() throws Exception {
		String text = registry(true).scrape();
		for (String le : List.of("1.0", "10.0", "60.0", "300.0", "900.0", "1800.0", "3600.0", "7200.0", "21600.0",
				"86400.0", "+Inf")) {
			assertThat(text).contains("grpc_keepalive_connection_lifetime_seconds_bucket{channel=\"server\","
					+ "reason=\"max_age\",side=\"server\",le=\"" + le + "\"}");
		}
	}

	private void assertRendersAsDocumented(boolean buckets) throws Exception {
		Map<String, Row> documented = documented();
		assertThat(documented.keySet()).containsExactlyInAnyOrder(
				java.util.Arrays.stream(KeepAliveMeter.values()).map(KeepAliveMeter::getName).toArray(String[]::new));
		PrometheusMeterRegistry registry = registry(buckets);
		for (String format : List.of("text/plain", "application/openmetrics-text")) {
			String scrape = registry.scrape(format);
			Set<String> rendered = new LinkedHashSet<>();
			Matcher sample = SAMPLE.matcher(scrape);
			while (sample.find()) {
				rendered.add(sample.group(1));
			}
			Set<String> expected = new LinkedHashSet<>();
			for (Row row : documented.values()) {
				for (Map.Entry<String, String> series : row.series().entrySet()) {
					boolean bucketsOnly = series.getValue().contains("with buckets");
					if (!bucketsOnly || buckets) {
						expected.add(series.getKey());
					}
				}
				String base = row.series().keySet().iterator().next().replaceAll("_(total|count)$", "");
				// the timers are histograms with the default buckets, summaries without any
				String type = (!buckets && row.type().equals("histogram")) ? "summary" : row.type();
				String typeName = (format.startsWith("application/openmetrics") || !type.equals("counter")) ? base
						: base + "_total";
				assertThat(scrape).as(format + ": " + row.meter()).contains("# TYPE " + typeName + " " + type + "\n");
			}
			assertThat(rendered).as(format + ", buckets " + buckets).containsExactlyInAnyOrderElementsOf(expected);
		}
	}

	/** A Prometheus registry with the meters of one server, with or without the default timer buckets. */
	private static PrometheusMeterRegistry registry(boolean buckets) {
		PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
		if (buckets) {
			// what the metrics auto-configuration adds to Spring Boot's registries
			registry.config().meterFilter(new DefaultTimerBuckets());
		}
		ConnectionTracker tracker = ConnectionTracker.create(Side.SERVER, "server", null, null);
		new GrpcKeepAliveMeterBinder(StubServer.of(tracker.view()), List.of(),
				new dev.grpckeepalive.advisor.KeepAliveAdvisor(Duration.ofHours(1), java.time.Clock.systemUTC()))
			.bindTo(registry);
		return registry;
	}

	private static Map<String, Row> documented() throws Exception {
		String section = Files.readString(METRICS_MD).split("\n### Prometheus names\n", 2)[1].split("\n###? ", 2)[0];
		Map<String, Row> rows = new LinkedHashMap<>();
		for (String line : section.split("\n")) {
			Matcher row = ROW.matcher(line);
			if (row.find()) {
				Map<String, String> series = new LinkedHashMap<>();
				Matcher name = NAME.matcher(row.group(3));
				while (name.find()) {
					series.put(name.group(1), (name.group(2) != null) ? name.group(2) : "");
				}
				rows.put(row.group(1), new Row(row.group(1), row.group(2), series));
			}
		}
		return rows;
	}

	private record Row(String meter, String type, Map<String, String> series) {

	}

}
