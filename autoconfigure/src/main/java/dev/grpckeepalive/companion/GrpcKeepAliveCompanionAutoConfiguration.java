package dev.grpckeepalive.companion;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.logging.GrpcLogCondenser;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
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
 *
 * <p>Nothing the application had working is dropped without a word: customizers Spring Boot
 * would skip because of this starter's grpc-netty-shaded fail startup with a report
 * ({@link UnshadedCustomizerCheck}); this starter's server properties that Spring Boot's
 * server owns are named in one WARN; the abuse limits put on Spring Boot's server are stated
 * in one INFO line. {@code grpc.keepalive.server.enabled=false} leaves Spring Boot's server
 * as Spring Boot configured it.
 */
@AutoConfiguration(after = GrpcKeepAliveAutoConfiguration.class,
		afterName = { "org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration",
				"org.springframework.boot.grpc.client.autoconfigure.GrpcClientAutoConfiguration" })
public final class GrpcKeepAliveCompanionAutoConfiguration {

	@Bean
	@ConditionalOnClass(name = "org.springframework.grpc.server.ServerBuilderCustomizer")
	static UnshadedCustomizerCheck grpcKeepAliveUnshadedCustomizerCheck(ConfigurableListableBeanFactory beanFactory) {
		return new UnshadedCustomizerCheck(beanFactory);
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.springframework.grpc.server.ServerBuilderCustomizer",
			"org.springframework.grpc.server.lifecycle.GrpcServerLifecycle",
			"org.springframework.boot.grpc.server.autoconfigure.GrpcServerProperties" })
	@ConditionalOnBean(type = "org.springframework.grpc.server.ShadedNettyGrpcServerFactory")
	static class ServerCompanionConfiguration {

		ServerCompanionConfiguration(Environment environment) {
			IgnoredServerProperties.warnIfSet(environment);
		}

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.enabled", matchIfMissing = true)
		static class ManagedServerConfiguration {

			/** As on this starter's own server: Spring Boot's server logs what grpc-java logs per frame too. */
			@Bean(destroyMethod = "close")
			@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.limits.condense-grpc-logs",
					matchIfMissing = true)
			GrpcLogCondenser.Hold grpcKeepAliveCompanionLogCondenser() {
				return GrpcLogCondenser.acquire();
			}

			@Bean
			CompanionGrpcServer grpcKeepAliveCompanionServer(Environment environment,
					GrpcKeepAliveProperties properties, ObjectProvider<GrpcServerLifecycle> lifecycle) {
				return new CompanionGrpcServer(environment, properties, lifecycle);
			}

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
