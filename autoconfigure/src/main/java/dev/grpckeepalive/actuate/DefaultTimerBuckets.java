package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import org.jspecify.annotations.Nullable;

/**
 * Histogram bucket boundaries (Micrometer's service level objectives) for the starter's two
 * timers, {@code grpc.keepalive.connection.lifetime} and {@code grpc.keepalive.ping.rtt}, so
 * that a Prometheus registry renders them as histograms and the shipped dashboard's
 * distribution panels have data without any configuration.
 *
 * <p>They apply only where the configuration before this filter set nothing about buckets for
 * the meter: no {@code serviceLevelObjectives} and no {@code percentilesHistogram}, either
 * {@code true} or {@code false}. Micrometer hands each filter the configuration merged so far,
 * and Spring Boot's {@code PropertiesMeterFilter} ({@code management.metrics.distribution.*},
 * order 0) and the user's {@code MeterFilter} beans come before this one (it has the lowest
 * precedence, and auto-configured beans are registered after the application's own). So a
 * user's {@code slo} replaces these boundaries entirely, {@code percentiles-histogram: true}
 * gets Micrometer's generic buckets without these mixed in, and
 * {@code percentiles-histogram: false} turns buckets off. Only a filter ordered after this one
 * sees these boundaries.
 *
 * <p>Few boundaries, chosen for the ranges that occur: ten each, so eleven {@code _bucket}
 * series (with {@code +Inf}) per tag combination. Micrometer's generic timer buckets would
 * span 1 ms to 30 s in about 70, missing both connection ages (minutes to days) and loopback
 * round trips.
 */
final class DefaultTimerBuckets implements MeterFilter {

	/** Connection ages: from a retry loop's seconds to a day, around the usual max-connection-age values. */
	static final List<Duration> CONNECTION_LIFETIME = List.of(Duration.ofSeconds(1), Duration.ofSeconds(10),
			Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(30),
			Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(6), Duration.ofDays(1));

	/**
	 * PING round trips: a local network below 1 ms, continents in tens to hundreds of ms, and
	 * up to the default keepalive timeout of 20 s, with 10 s, the round-trip alert's threshold.
	 */
	static final List<Duration> PING_RTT = List.of(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
			Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
			Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20));

	@Override
	public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
		if (id.getType() != Meter.Type.TIMER || setsBuckets(config)) {
			return config;
		}
		List<Duration> boundaries = boundaries(id.getName());
		if (boundaries == null) {
			return config;
		}
		// timers take their boundaries in nanoseconds, as Timer.Builder#serviceLevelObjectives converts them
		double[] nanos = boundaries.stream().mapToDouble(Duration::toNanos).toArray();
		return DistributionStatisticConfig.builder().serviceLevelObjectives(nanos).build().merge(config);
	}

	private static @Nullable List<Duration> boundaries(String name) {
		if (KeepAliveMeter.CONNECTION_LIFETIME.getName().equals(name)) {
			return CONNECTION_LIFETIME;
		}
		if (KeepAliveMeter.PING_RTT.getName().equals(name)) {
			return PING_RTT;
		}
		return null;
	}

	/** Whether the configuration says anything about buckets, even that there are none. */
	private static boolean setsBuckets(DistributionStatisticConfig config) {
		return config.getServiceLevelObjectiveBoundaries() != null || config.isPercentileHistogram() != null;
	}

}
