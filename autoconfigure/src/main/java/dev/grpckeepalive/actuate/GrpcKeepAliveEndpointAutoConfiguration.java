package dev.grpckeepalive.actuate;

import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.operate.ConnectionOperations;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/** Auto-configures the {@code grpckeepalive} Actuator endpoint when Actuator is present and the endpoint exposed. */
@AutoConfiguration(after = { GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class },
		afterName = { "dev.grpckeepalive.companion.GrpcKeepAliveCompanionAutoConfiguration",
				"dev.grpckeepalive.advisor.KeepAliveAdvisorAutoConfiguration" })
@ConditionalOnClass(Endpoint.class)
@ConditionalOnAvailableEndpoint(GrpcKeepAliveEndpoint.class)
public final class GrpcKeepAliveEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	GrpcKeepAliveEndpoint grpcKeepAliveEndpoint(ObjectProvider<ObservedGrpcServer> server,
			ObjectProvider<TrackedChannels> channels, GrpcKeepAliveProperties properties,
			ObjectProvider<KeepAliveAdvisor> advisor, ObjectProvider<ConnectionOperations> operations) {
		return new GrpcKeepAliveEndpoint(server.getIfAvailable(), channels.orderedStream().toList(),
				properties.getActuator().getShowPeers(), advisor.getIfAvailable(), operations.getIfAvailable());
	}

	/**
	 * The operator's actions behind the endpoint's write operations; a drained connection's
	 * calls get the server's {@code shutdown-grace}. Made whether or not the write operations
	 * are granted: it holds no thread until a rebalance runs.
	 */
	@Bean(destroyMethod = "close")
	@ConditionalOnBean(ObservedGrpcServer.class)
	@ConditionalOnMissingBean
	ConnectionOperations grpcKeepAliveConnectionOperations(ObservedGrpcServer server,
			GrpcKeepAliveProperties properties) {
		return new ConnectionOperations(server, properties.getServer().getShutdownGrace());
	}

}
