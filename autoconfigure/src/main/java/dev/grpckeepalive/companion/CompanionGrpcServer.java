package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.frame.ConnectionInstrumentation;
import dev.grpckeepalive.frame.FrameObservingTransport;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import static dev.grpckeepalive.config.DurationSetting.saturatedNanos;

/**
 * Spring Boot's own gRPC server, seen through this starter: a customizer that runs after
 * Spring Boot's properties, applies the {@code grpc.keepalive.server.*} options the
 * application set (they win over {@code spring.grpc.server.keepalive.*}), and installs
 * connection tracking and the frame observer; and the {@link ObservedGrpcServer} the
 * endpoint, health and meters read.
 */
final class CompanionGrpcServer implements ServerBuilderCustomizer<NettyServerBuilder>, ObservedGrpcServer,
		ApplicationListener<ContextClosedEvent>, DisposableBean {

	private static final Log logger = LogFactory.getLog(CompanionGrpcServer.class);

	private static final String OURS = GrpcKeepAliveProperties.PREFIX + ".server.";

	private static final String BOOTS = "spring.grpc.server.keepalive.";

	private static final String WHERE = "Spring Boot's gRPC server";

	private final BootKeepAliveProperties properties;

	private final ObjectProvider<GrpcServerLifecycle> lifecycle;

	private final ServerKeepAliveSettings settings;

	private final ConnectionTracker connections;

	private final @Nullable FrameObservingTransport transport;

	CompanionGrpcServer(Environment environment, GrpcKeepAliveProperties keepAlive,
			ObjectProvider<GrpcServerLifecycle> lifecycle) {
		this.properties = new BootKeepAliveProperties(environment, logger);
		this.lifecycle = lifecycle;
		this.settings = KeepAliveSettings.resolve(inForce()).server();
		this.connections = ConnectionTracker.create(Side.SERVER, "server",
				this.settings.maxConnectionIdle().effective(), this.settings.maxConnectionAge().effective());
		this.transport = keepAlive.getFrames().isEnabled() ? FrameObservingTransport.forServer() : null;
	}

	/** The options in force on Spring Boot's server, validated like this starter's own. */
	private GrpcKeepAliveProperties inForce() {
		GrpcKeepAliveProperties merged = new GrpcKeepAliveProperties();
		GrpcKeepAliveProperties.Server server = merged.getServer();
		server.setTime(duration("time", "time", Duration.ofHours(2)));
		server.setTimeout(duration("timeout", "timeout", Duration.ofSeconds(20)));
		server.setPermitTime(duration("permit-time", "permit.time", Duration.ofMinutes(5)));
		Boolean withoutCalls = this.properties.value(OURS + "permit-without-calls", BOOTS + "permit.without-calls",
				Boolean.class, false);
		server.setPermitWithoutCalls(Boolean.TRUE.equals(withoutCalls));
		server.setMaxConnectionIdle(duration("max-connection-idle", "connection.max-idle-time", null));
		server.setMaxConnectionAge(duration("max-connection-age", "connection.max-age", null));
		if (server.getMaxConnectionAge() != null) {
			server.setMaxConnectionAgeGrace(
					duration("max-connection-age-grace", "connection.grace-period", Duration.ofSeconds(30)));
		}
		return merged;
	}

	private @Nullable Duration duration(String ours, String boots, @Nullable Duration bootsDefault) {
		return this.properties.value(OURS + ours, BOOTS + boots, Duration.class, bootsDefault);
	}

	@Override
	public void customize(NettyServerBuilder builder) {
		applySet("time", "time", Duration.ofHours(2), (value) -> builder.keepAliveTime(saturatedNanos(value), TimeUnit.NANOSECONDS));
		applySet("timeout", "timeout", Duration.ofSeconds(20),
				(value) -> builder.keepAliveTimeout(saturatedNanos(value), TimeUnit.NANOSECONDS));
		applySet("permit-time", "permit.time", Duration.ofMinutes(5),
				(value) -> builder.permitKeepAliveTime(saturatedNanos(value), TimeUnit.NANOSECONDS));
		applySet("max-connection-idle", "connection.max-idle-time", null,
				(value) -> builder.maxConnectionIdle(saturatedNanos(value), TimeUnit.NANOSECONDS));
		applySet("max-connection-age", "connection.max-age", null,
				(value) -> builder.maxConnectionAge(saturatedNanos(value), TimeUnit.NANOSECONDS));
		applySet("max-connection-age-grace", "connection.grace-period", Duration.ofSeconds(30),
				(value) -> builder.maxConnectionAgeGrace(saturatedNanos(value), TimeUnit.NANOSECONDS));
		Boolean permitWithoutCalls = this.properties.ours(OURS + "permit-without-calls", Boolean.class);
		if (permitWithoutCalls != null) {
			builder.permitKeepAliveWithoutCalls(permitWithoutCalls);
			this.properties.logOverride(OURS + "permit-without-calls", permitWithoutCalls,
					BOOTS + "permit.without-calls", false, WHERE);
		}
		ConnectionInstrumentation.install(builder, this.connections, this.transport, this.settings.timeout().effective());
	}

	private void applySet(String ours, String boots, @Nullable Duration bootsDefault, Consumer<Duration> apply) {
		Duration value = this.properties.ours(OURS + ours, Duration.class);
		if (value != null) {
			apply.accept(value);
			this.properties.logOverride(OURS + ours, value, BOOTS + boots, bootsDefault, WHERE);
		}
	}

	@Override
	public int getPort() {
		GrpcServerLifecycle server = this.lifecycle.getIfAvailable();
		return (server != null) ? server.getPort() : -1;
	}

	@Override
	public boolean isRunning() {
		GrpcServerLifecycle server = this.lifecycle.getIfAvailable();
		return server != null && server.isRunning();
	}

	@Override
	public ServerKeepAliveSettings getSettings() {
		return this.settings;
	}

	@Override
	public ConnectionTrackerView getConnections() {
		return this.connections;
	}

	/** Closes from now on are the application's doing: Spring Boot's server stops next. */
	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		this.connections.shutdownStarted();
	}

	/** Runs after Spring Boot's server has stopped, which depends on this customizer. */
	@Override
	public void destroy() {
		if (this.transport != null) {
			this.transport.close();
		}
	}

}
