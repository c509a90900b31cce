package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;

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
@AutoConfiguration(after = { GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class })
@ConditionalOnClass(HealthContributor.class)
@ConditionalOnEnabledHealthIndicator("grpckeepalive")
public final class GrpcKeepAliveHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "grpcKeepaliveHealthContributor")
	CompositeHealthContributor grpcKeepaliveHealthContributor(ObjectProvider<KeepAliveGrpcServer> server,
			ObjectProvider<GrpcChannels> channels, GrpcKeepAliveProperties properties) {
		Duration window = properties.getHealth().getWindow();
		Map<String, HealthContributor> contributors = new LinkedHashMap<>();
		server.ifAvailable((grpcServer) -> contributors.put("server", new ServerHealthIndicator(grpcServer, window)));
		channels.ifAvailable((grpcChannels) -> grpcChannels.tracked()
			.forEach((name, channel) -> contributors.put(name, new ChannelHealthIndicator(channel, window))));
		return CompositeHealthContributor.fromMap(contributors);
	}

}
