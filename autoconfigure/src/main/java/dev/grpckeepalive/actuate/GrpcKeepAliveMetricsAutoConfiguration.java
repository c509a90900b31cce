package dev.grpckeepalive.actuate;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.config.MeterFilter;

import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

/**
 * Auto-configures the {@code grpc.keepalive.*} Micrometer meters, which Spring Boot binds to its
 * registries, and default histogram buckets for their two timers.
 */
@AutoConfiguration(after = { GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class },
		afterName = { "dev.grpckeepalive.companion.GrpcKeepAliveCompanionAutoConfiguration",
				"dev.grpckeepalive.advisor.KeepAliveAdvisorAutoConfiguration" })
@ConditionalOnClass({ MeterRegistry.class, MeterBinder.class })
public final class GrpcKeepAliveMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	GrpcKeepAliveMeterBinder grpcKeepAliveMeterBinder(ObjectProvider<ObservedGrpcServer> server,
			ObjectProvider<TrackedChannels> channels, ObjectProvider<KeepAliveAdvisor> advisor) {
		return new GrpcKeepAliveMeterBinder(server.getIfAvailable(), channels.orderedStream().toList(),
				advisor.getIfAvailable());
	}

	/**
	 * Default buckets for the two timers, where nothing else configured any: last of the
	 * {@code MeterFilter} beans, so that it sees what {@code management.metrics.distribution.*}
	 * and the application's own filters set (see {@link DefaultTimerBuckets}).
	 */
	@Bean
	@Order(Ordered.LOWEST_PRECEDENCE)
	static MeterFilter grpcKeepAliveTimerBuckets() {
		return new DefaultTimerBuckets();
	}

}
