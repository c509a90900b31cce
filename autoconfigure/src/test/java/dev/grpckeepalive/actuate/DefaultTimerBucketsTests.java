package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.test.TestService;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.prometheus.PrometheusMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The starter's default timer buckets ({@link DefaultTimerBuckets}) in Spring Boot's metrics
 * set-up, as {@code /actuator/prometheus} renders them: there without configuration, and gone
 * entirely, not mixed with the user's, wherever the user configured buckets for the meter by
 * property or by a {@code MeterFilter} bean of their own.
 */
class DefaultTimerBucketsTests {

	private static final List<String> LIFETIME = List.of("1.0", "10.0", "60.0", "300.0", "900.0", "1800.0", "3600.0",
			"7200.0", "21600.0", "86400.0", "+Inf");

	private static final List<String> RTT = List.of("0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1.0", "5.0", "10.0",
			"20.0", "+Inf");

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
				PrometheusMetricsExportAutoConfiguration.class, GrpcKeepAliveAutoConfiguration.class,
				GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class,
				GrpcKeepAliveMetricsAutoConfiguration.class))
		.withBean(TestService.class)
		.withPropertyValues("grpc.keepalive.server.port=0", "grpc.keepalive.server.address=127.0.0.1",
				"grpc.keepalive.client.channels.a.target=localhost:1");

	@Test
	void withoutConfigurationBothTimersHaveTheDefaultBuckets() {
		this.runner.run((context) -> {
			assertThat(buckets(context, "connection_lifetime", "server")).containsExactlyElementsOf(LIFETIME);
			assertThat(buckets(context, "connection_lifetime", "a")).containsExactlyElementsOf(LIFETIME);
			assertThat(buckets(context, "ping_rtt", "server")).containsExactlyElementsOf(RTT);
			assertThat(buckets(context, "ping_rtt", "a")).containsExactlyElementsOf(RTT);
			assertThat(DefaultTimerBuckets.CONNECTION_LIFETIME).hasSize(LIFETIME.size() - 1);
			assertThat(DefaultTimerBuckets.PING_RTT).hasSize(RTT.size() - 1);
		});
	}

	@Test
	void theUsersSloReplacesTheDefaultsForThatMeterOnly() {
		this.runner.withPropertyValues("management.metrics.distribution.slo.grpc.keepalive.connection.lifetime=30s,5m")
			.run((context) -> {
				assertThat(buckets(context, "connection_lifetime", "server")).containsExactly("30.0", "300.0", "+Inf");
				assertThat(buckets(context, "ping_rtt", "server")).containsExactlyElementsOf(RTT);
			});
	}

	@Test
	void aPercentilesHistogramGetsMicrometersBucketsWithoutTheDefaults() {
		this.runner.withPropertyValues("management.metrics.distribution.percentiles-histogram.grpc.keepalive=true")
			.run((context) -> {
				// Micrometer's generic timer buckets end at the timer's maximum expected value, 30 s
				List<String> lifetime = buckets(context, "connection_lifetime", "server");
				assertThat(lifetime).hasSizeGreaterThan(20).contains("30.0", "+Inf").doesNotContain("60.0", "86400.0");
				assertThat(buckets(context, "ping_rtt", "server")).isEqualTo(lifetime).doesNotContain("20.0");
			});
	}

	@Test
	void percentilesHistogramFalseTurnsBucketsOff() {
		this.runner.withPropertyValues("management.metrics.distribution.percentiles-histogram.grpc.keepalive=false")
			.run((context) -> {
				String scrape = context.getBean(PrometheusMeterRegistry.class).scrape();
				assertThat(scrape).contains("grpc_keepalive_connection_lifetime_seconds_count")
					.doesNotContain("_bucket")
					.contains("# TYPE grpc_keepalive_connection_lifetime_seconds summary");
			});
	}

	@Test
	void aMeterFilterBeanOfTheUsersThatSetsBucketsWins() {
		// a percentiles histogram, not boundaries: merged after the defaults it would add to them
		this.runner.withBean("usersBuckets", MeterFilter.class, () -> new MeterFilter() {

			@Override
			public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
				if (!id.getName().equals(KeepAliveMeter.CONNECTION_LIFETIME.getName())) {
					return config;
				}
				return DistributionStatisticConfig.builder()
					.percentilesHistogram(true)
					.maximumExpectedValue((double) Duration.ofMinutes(2).toNanos())
					.build()
					.merge(config);
			}

		}).run((context) -> {
			assertThat(buckets(context, "connection_lifetime", "server")).hasSizeGreaterThan(20)
				.contains("120.0", "+Inf")
				.doesNotContain("300.0", "86400.0");
			assertThat(buckets(context, "ping_rtt", "server")).containsExactlyElementsOf(RTT);
		});
	}

	@Test
	void aMeterFilterBeanOfTheUsersWithBoundariesReplacesTheDefaults() {
		this.runner.withBean("usersBuckets", MeterFilter.class, () -> new MeterFilter() {

			@Override
			public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
				if (!id.getName().equals(KeepAliveMeter.CONNECTION_LIFETIME.getName())) {
					return config;
				}
				return DistributionStatisticConfig.builder()
					.serviceLevelObjectives(Duration.ofSeconds(42).toNanos())
					.build()
					.merge(config);
			}

		}).run((context) -> assertThat(buckets(context, "connection_lifetime", "server")).containsExactly("42.0", "+Inf"));
	}

	/** The {@code le} values of one timer's buckets for one server or channel, in the scrape's order. */
	private static List<String> buckets(AssertableApplicationContext context, String timer, String channel) {
		assertThat(context).hasNotFailed();
		String scrape = context.getBean(PrometheusMeterRegistry.class).scrape();
		String reason = timer.equals("connection_lifetime") ? "reason=\"max_age\"," : "";
		Pattern bucket = Pattern.compile("(?m)^grpc_keepalive_" + timer + "_seconds_bucket\\{channel=\"" + channel
				+ "\"," + reason + "side=\"\\w+\",le=\"([^\"]+)\"\\}");
		List<String> les = new ArrayList<>();
		Matcher matcher = bucket.matcher(scrape);
		while (matcher.find()) {
			les.add(matcher.group(1));
		}
		return les;
	}

}
