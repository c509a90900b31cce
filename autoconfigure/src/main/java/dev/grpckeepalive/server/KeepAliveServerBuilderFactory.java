package dev.grpckeepalive.server;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.transport.ConnectionInstrumentation;
import dev.grpckeepalive.transport.ServerLimits;
import dev.grpckeepalive.transport.FrameObservingTransport;
import dev.grpckeepalive.tls.SslBundleContexts;

/**
 * Creates the {@link NettyServerBuilder}: address, services, the seven keepalive and
 * connection-management options, the handshake timeout, the HTTP/2 abuse limits, the
 * application's exception handlers and interceptors, connection tracking and the frame observer, then the customizers. grpc-java receives the requested
 * values and enforces them itself.
 */
final class KeepAliveServerBuilderFactory {

	private final GrpcKeepAliveProperties.Server properties;

	private final ServerKeepAliveSettings settings;

	KeepAliveServerBuilderFactory(GrpcKeepAliveProperties.Server properties, ServerKeepAliveSettings settings) {
		this.properties = properties;
		this.settings = settings;
	}

	NettyServerBuilder newBuilder(List<BindableService> services, List<ServerServiceDefinition> definitions,
			List<ServerInterceptor> interceptors, List<GrpcExceptionHandler> exceptionHandlers,
			List<ServerBuilderCustomizer> customizers, ConnectionTracker tracker,
			@Nullable FrameObservingTransport transport, SslBundleContexts tls) {
		NettyServerBuilder builder = NettyServerBuilder.forAddress(socketAddress());
		String bundle = this.properties.getSsl().getBundle();
		if (bundle != null) {
			builder.sslContext(tls.forServer(GrpcKeepAliveProperties.PREFIX + ".server.ssl.bundle", bundle,
					this.properties.getSsl().getClientAuth()));
		}
		services.forEach(builder::addService);
		definitions.forEach(builder::addService);
		applyKeepAlive(builder);
		// always set: the property's default is grpc-java's own (120 s), lowering it frees silent sockets sooner
		builder.handshakeTimeout(this.properties.getHandshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
		// before the customizers, so that a customizer can still override any of them
		ServerLimits.applyTo(builder, this.settings.limits(), true);
		if (!exceptionHandlers.isEmpty()) {
			// added first, so innermost: every interceptor sees the mapped status as the call's close
			builder.intercept(new ExceptionStatusInterceptor(exceptionHandlers));
		}
		// grpc-java runs the interceptor added last first: the application's in reverse, so that the first by
		// @Order runs first, and before the starter's call counter, which thus stays outermost and counts every call
		for (int i = interceptors.size() - 1; i >= 0; i--) {
			builder.intercept(interceptors.get(i));
		}
		ConnectionInstrumentation.install(builder, tracker, transport, this.settings.timeout().requireEffective(),
				this.settings.limits());
		customizers.forEach((customizer) -> customizer.customize(builder));
		return builder;
	}

	private InetSocketAddress socketAddress() {
		if (this.properties.getAddress() != null) {
			return new InetSocketAddress(this.properties.getAddress(), this.properties.getPort());
		}
		return new InetSocketAddress(this.properties.getPort());
	}

	private void applyKeepAlive(NettyServerBuilder builder) {
		builder.keepAliveTime(this.settings.time().requestedNanos(), TimeUnit.NANOSECONDS);
		builder.keepAliveTimeout(this.settings.timeout().requestedNanos(), TimeUnit.NANOSECONDS);
		builder.permitKeepAliveTime(this.settings.permitTime().requestedNanos(), TimeUnit.NANOSECONDS);
		builder.permitKeepAliveWithoutCalls(this.settings.permitWithoutCalls());
		ifRequested(this.settings.maxConnectionIdle(),
				(nanos) -> builder.maxConnectionIdle(nanos, TimeUnit.NANOSECONDS));
		ifRequested(this.settings.maxConnectionAge(), (nanos) -> builder.maxConnectionAge(nanos, TimeUnit.NANOSECONDS));
		ifRequested(this.settings.maxConnectionAgeGrace(),
				(nanos) -> builder.maxConnectionAgeGrace(nanos, TimeUnit.NANOSECONDS));
	}

	private static void ifRequested(DurationSetting setting, java.util.function.LongConsumer apply) {
		if (setting.requested() != null) {
			apply.accept(setting.requestedNanos());
		}
	}

}
