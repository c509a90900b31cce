package dev.grpckeepalive.advisor;

import java.time.Clock;

import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configures the keepalive advisor ({@code grpc.keepalive.advisor.*}): the findings, and
 * the watches on the server's and the channels' connections that make them.
 */
@AutoConfiguration(after = { GrpcKeepAliveAutoConfiguration.class, GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class },
		afterName = "dev.grpckeepalive.companion.GrpcKeepAliveCompanionAutoConfiguration")
@ConditionalOnBean(GrpcKeepAliveProperties.class)
@ConditionalOnProperty(prefix = "grpc.keepalive.advisor", name = "enabled", matchIfMissing = true)
public final class KeepAliveAdvisorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	KeepAliveAdvisor grpcKeepAliveAdvisor(GrpcKeepAliveProperties properties) {
		return new KeepAliveAdvisor(properties.getAdvisor().getWindow(), Clock.systemUTC());
	}

	@Bean
	AdvisorInstaller grpcKeepAliveAdvisorInstaller(KeepAliveAdvisor advisor, ObjectProvider<ObservedGrpcServer> server,
			ObjectProvider<TrackedChannels> channels) {
		return new AdvisorInstaller(advisor, server.getIfAvailable(), channels.orderedStream().toList());
	}

}
