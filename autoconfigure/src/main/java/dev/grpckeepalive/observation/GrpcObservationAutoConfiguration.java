package dev.grpckeepalive.observation;

import io.micrometer.core.instrument.binder.grpc.GrpcClientObservationConvention;
import io.micrometer.core.instrument.binder.grpc.GrpcServerObservationConvention;
import io.micrometer.core.instrument.binder.grpc.ObservationGrpcClientInterceptor;
import io.micrometer.core.instrument.binder.grpc.ObservationGrpcServerInterceptor;
import io.micrometer.observation.ObservationRegistry;

import dev.grpckeepalive.client.GrpcChannels;
import dev.grpckeepalive.client.GrpcKeepAliveClientAutoConfiguration;
import dev.grpckeepalive.server.GrpcKeepAliveServerAutoConfiguration;
import dev.grpckeepalive.server.KeepAliveGrpcServer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

/**
 * Observes every call on the starter's own server and channels when an
 * {@link ObservationRegistry} bean exists, as Spring Boot's gRPC starters do: Micrometer's
 * {@link ObservationGrpcServerInterceptor} and {@link ObservationGrpcClientInterceptor}, at
 * {@code @Order(0)}, with a {@link GrpcServerObservationConvention} or
 * {@link GrpcClientObservationConvention} bean if there is one. With Spring Boot's metrics
 * that yields the {@code grpc.server} and {@code grpc.client} timers, and spans with a tracer.
 * Off with {@code grpc.keepalive.server.observation.enabled=false} or
 * {@code grpc.keepalive.client.observation.enabled=false}; backs off for an interceptor the
 * application (or Spring Boot's gRPC client) already defines.
 */
@AutoConfiguration(after = { GrpcKeepAliveServerAutoConfiguration.class, GrpcKeepAliveClientAutoConfiguration.class },
		afterName = { "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
				"org.springframework.boot.grpc.client.autoconfigure.GrpcClientObservationAutoConfiguration" })
@ConditionalOnClass({ ObservationRegistry.class, ObservationGrpcServerInterceptor.class })
@ConditionalOnBean(ObservationRegistry.class)
public final class GrpcObservationAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnBean(KeepAliveGrpcServer.class)
	@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.observation.enabled", matchIfMissing = true)
	static class ServerObservationConfiguration {

		@Bean
		@Order(0)
		@ConditionalOnMissingBean
		ObservationGrpcServerInterceptor grpcKeepAliveServerObservationInterceptor(ObservationRegistry registry,
				ObjectProvider<GrpcServerObservationConvention> convention) {
			ObservationGrpcServerInterceptor interceptor = new ObservationGrpcServerInterceptor(registry);
			convention.ifAvailable(interceptor::setCustomConvention);
			return interceptor;
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnBean(GrpcChannels.class)
	@ConditionalOnBooleanProperty(name = "grpc.keepalive.client.observation.enabled", matchIfMissing = true)
	static class ClientObservationConfiguration {

		@Bean
		@Order(0)
		@ConditionalOnMissingBean
		ObservationGrpcClientInterceptor grpcKeepAliveClientObservationInterceptor(ObservationRegistry registry,
				ObjectProvider<GrpcClientObservationConvention> convention) {
			ObservationGrpcClientInterceptor interceptor = new ObservationGrpcClientInterceptor(registry);
			convention.ifAvailable(interceptor::setCustomConvention);
			return interceptor;
		}

	}

}
