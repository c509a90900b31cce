package dev.grpckeepalive.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import dev.grpckeepalive.config.GrpcKeepAliveAutoConfiguration;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.PingPolicy;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.transport.FrameObservingTransport;
import dev.grpckeepalive.logging.GrpcLogCondenser;
import dev.grpckeepalive.tls.SslBundleContexts;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Auto-configures a keepalive-managed grpc-java Netty server that serves every
 * {@link BindableService} and {@link ServerServiceDefinition} bean, through every
 * {@link ServerInterceptor} bean, in {@link org.springframework.core.annotation.Order order} (the
 * first runs first). It closes calls whose service throws with the status a
 * {@link GrpcExceptionHandler} bean maps the exception to, and tells the
 * {@link GrpcServerListener} beans of its start and shutdown. Backs off when
 * {@code grpc.keepalive.server.enabled=false}, when there is no service to serve, when
 * the application defines its own {@link KeepAliveGrpcServer}, and when Spring Boot's own
 * gRPC server runs (then this starter acts as its companion instead).
 */
@AutoConfiguration(after = GrpcKeepAliveAutoConfiguration.class,
		afterName = { "org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration",
				"org.springframework.boot.grpc.server.autoconfigure.GrpcServerAutoConfiguration" })
@ConditionalOnClass(NettyServerBuilder.class)
@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.enabled", matchIfMissing = true)
@Conditional(OnGrpcServicesCondition.class)
@ConditionalOnMissingBean(type = "org.springframework.grpc.server.lifecycle.GrpcServerLifecycle")
public final class GrpcKeepAliveServerAutoConfiguration {

	/** Created before the server (which asks for it): its first hostile connection may already log. */
	@Bean(destroyMethod = "close")
	@ConditionalOnBooleanProperty(name = "grpc.keepalive.server.limits.condense-grpc-logs", matchIfMissing = true)
	GrpcLogCondenser.Hold grpcKeepAliveLogCondenser() {
		return GrpcLogCondenser.acquire();
	}

	@Bean
	@ConditionalOnMissingBean
	KeepAliveGrpcServer grpcKeepAliveServer(GrpcKeepAliveProperties properties, KeepAliveSettings settings,
			ObjectProvider<BindableService> services, ObjectProvider<ServerServiceDefinition> definitions,
			ObjectProvider<ServerBuilderCustomizer> customizers, ObjectProvider<ServerInterceptor> interceptors,
			ObjectProvider<GrpcExceptionHandler> exceptionHandlers, ObjectProvider<GrpcServerListener> listeners,
			ObjectProvider<SslBundles> sslBundles,
			ObjectProvider<GrpcLogCondenser.Hold> logCondenser, Environment environment) {
		logCondenser.ifAvailable((hold) -> {
		});
		GrpcKeepAliveProperties.Server serverProperties = properties.getServer();
		ConnectionTracker tracker = ConnectionTracker.create(Side.SERVER, "server",
				settings.server().maxConnectionIdle().effective(), settings.server().maxConnectionAge().effective(),
				PingPolicy.of(settings.server().permitTime().effective(), settings.server().permitWithoutCalls()));
		FrameObservingTransport transport = properties.getFrames().isEnabled() ? FrameObservingTransport.forServer()
				: null;
		Server server;
		try {
			server = new KeepAliveServerBuilderFactory(serverProperties, settings.server())
				.newBuilder(services.orderedStream().toList(), definitions.orderedStream().toList(),
						interceptors.orderedStream().toList(), exceptionHandlers.orderedStream().toList(),
						customizers.orderedStream().toList(), tracker, transport,
						new SslBundleContexts(sslBundles.getIfAvailable()))
				.build();
		}
		catch (RuntimeException ex) {
			if (transport != null) {
				transport.close();
			}
			throw ex;
		}
		return new KeepAliveGrpcServer(server, serverProperties.getPort(), serverProperties.getShutdownGrace(),
				(environment instanceof ConfigurableEnvironment configurable) ? configurable : null, settings.server(),
				tracker, transport, listeners.orderedStream().toList());
	}

}
