package dev.grpckeepalive.companion;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

/**
 * Companion mode: when Spring Boot's own gRPC server or client runs, this starter starts no
 * server of its own but hooks into Spring Boot's through its customizers, so that the
 * {@code grpc.keepalive.*} options, the connection tracker, the frame observer, the endpoint,
 * health and meters work the same.
 */
@AutoConfiguration(after = GrpcKeepAliveAutoConfiguration.class,
		afterName = { "org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration",
				"org.springframework.boot.grpc.client.autoconfigure.GrpcClientAutoConfiguration" })
public final class GrpcKeepAliveCompanionAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.springframework.grpc.server.ServerBuilderCustomizer",
			"org.springframework.grpc.server.lifecycle.GrpcServerLifecycle",
			"org.springframework.boot.grpc.server.autoconfigure.GrpcServerProperties" })
	@ConditionalOnBean(type = "org.springframework.grpc.server.lifecycle.GrpcServerLifecycle")
	static class ServerCompanionConfiguration {

		@Bean
		CompanionGrpcServer grpcKeepAliveCompanionServer(Environment environment, GrpcKeepAliveProperties properties,
				ObjectProvider<GrpcServerLifecycle> lifecycle) {
			return new CompanionGrpcServer(environment, properties, lifecycle);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.springframework.grpc.client.GrpcChannelBuilderCustomizer",
			"org.springframework.boot.grpc.client.autoconfigure.GrpcClientProperties" })
	@ConditionalOnBean(type = "org.springframework.grpc.client.GrpcChannelFactory")
	static class ClientCompanionConfiguration {

		@Bean
		CompanionChannels grpcKeepAliveCompanionChannels(Environment environment,
				GrpcKeepAliveProperties properties) {
			return new CompanionChannels(environment, properties);
		}

	}

}
