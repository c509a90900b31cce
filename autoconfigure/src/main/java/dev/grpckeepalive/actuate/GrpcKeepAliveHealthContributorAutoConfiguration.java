package dev.grpckeepalive.actuate;

import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the {@code grpcKeepalive} health contributor: {@code server} and one
 * entry per channel. Disable with {@code management.health.grpckeepalive.enabled=false}.
 */
@AutoConfiguration(after = { GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class },
		afterName = "dev.grpckeepalive.companion.GrpcKeepAliveCompanionAutoConfiguration")
@ConditionalOnClass(HealthContributor.class)
@ConditionalOnEnabledHealthIndicator("grpckeepalive")
public final class GrpcKeepAliveHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "grpcKeepaliveHealthContributor")
	CompositeHealthContributor grpcKeepaliveHealthContributor(ObjectProvider<ObservedGrpcServer> server,
			ObjectProvider<TrackedChannels> channels, GrpcKeepAliveProperties properties) {
		return new GrpcKeepAliveHealthContributor(server.getIfAvailable(), channels.orderedStream().toList(),
				properties.getHealth().getWindow());
	}

}
