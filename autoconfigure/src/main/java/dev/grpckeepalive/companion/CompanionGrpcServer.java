package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.Server;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.config.PropertyNames;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.DrainResult;
import dev.grpckeepalive.connection.PingPolicy;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.transport.ConnectionInstrumentation;
import dev.grpckeepalive.transport.FrameObservingTransport;
import dev.grpckeepalive.transport.ServerLimits;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerProperties;
import org.springframework.boot.grpc.server.autoconfigure.GrpcServerProperties.Keepalive;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.Environment;
import org.springframework.grpc.server.ServerBuilderCustomizer;
import org.springframework.grpc.server.ShadedNettyGrpcServerFactory;
import org.springframework.grpc.server.lifecycle.GrpcServerLifecycle;

import static dev.grpckeepalive.config.DurationSetting.saturatedNanos;

/**
 * Spring Boot's own gRPC server, seen through this starter: a customizer that runs after
 * Spring Boot's properties, applies the {@code grpc.keepalive.server.*} options the
 * application set (they win over {@code spring.grpc.server.keepalive.*}), and installs
 * connection tracking and the frame observer; and the {@link ObservedGrpcServer} the
 * endpoint, health and meters read.
 *
 * <p>The settings in force are this starter's value where the application set one, else
 * Spring Boot's, read from Spring Boot's own {@link GrpcServerProperties} so that a bare
 * number means seconds there as it does for Spring Boot. They are validated like this
 * starter's own, and warnings and failure reports name the property each value came from.
 *
 * <p>Only the Netty server Spring Boot builds with grpc-netty-shaded is customized: Spring
 * Boot applies a customizer only to the builder type it names, so its in-process server
 * ({@code spring.grpc.server.inprocess.name}), which runs beside the network server, is left
 * as it is (it has no transport to keep alive). On a Unix domain socket
 * ({@code spring.grpc.server.netty.transport=domain-socket}) the frame observer uses epoll's
 * domain socket channels, as Spring Boot does there.
 */
final class CompanionGrpcServer implements ServerBuilderCustomizer<NettyServerBuilder>, ObservedGrpcServer,
		ApplicationListener<ContextClosedEvent>, DisposableBean {

	private static final Log logger = LogFactory.getLog(CompanionGrpcServer.class);

	private static final String OURS = GrpcKeepAliveProperties.PREFIX + ".server.";

	private static final String BOOTS = "spring.grpc.server.keepalive.";

	private static final String WHERE = "Spring Boot's gRPC server";

	/** Every duration option, as this starter and Spring Boot name it. */
	private static final List<DurationOption> DURATIONS = List.of(
			new DurationOption("time", "time", Keepalive::getTime, Server::setTime,
					NettyServerBuilder::keepAliveTime),
			new DurationOption("timeout", "timeout", Keepalive::getTimeout, Server::setTimeout,
					NettyServerBuilder::keepAliveTimeout),
			new DurationOption("permit-time", "permit.time", (boots) -> boots.getPermit().getTime(),
					Server::setPermitTime, NettyServerBuilder::permitKeepAliveTime),
			new DurationOption("max-connection-idle", "connection.max-idle-time",
					(boots) -> boots.getConnection().getMaxIdleTime(), Server::setMaxConnectionIdle,
					NettyServerBuilder::maxConnectionIdle),
			new DurationOption("max-connection-age", "connection.max-age",
					(boots) -> boots.getConnection().getMaxAge(), Server::setMaxConnectionAge,
					NettyServerBuilder::maxConnectionAge),
			new DurationOption("max-connection-age-grace", "connection.grace-period",
					(boots) -> boots.getConnection().getGracePeriod(), Server::setMaxConnectionAgeGrace,
					NettyServerBuilder::maxConnectionAgeGrace));

	private final BootKeepAliveProperties properties;

	private final ObjectProvider<GrpcServerLifecycle> lifecycle;

	private final Keepalive boots;

	/** The options the application set under {@code grpc.keepalive.server}, by our name. */
	private final Map<String, Duration> ours = new LinkedHashMap<>();

	private final @Nullable Boolean oursPermitWithoutCalls;

	private final ServerKeepAliveSettings settings;

	private final ConnectionTracker connections;

	private final @Nullable FrameObservingTransport transport;

	/** The abuse limits, on by default on Spring Boot's server as on this starter's own. */
	private final GrpcKeepAliveProperties.Limits limits;

	/** Whether the application set our metadata limit; else Spring Boot's own applies. */
	private final boolean oursMetadataSize;

	/** Our handshake timeout if the application set it: Spring Boot has no property for it. */
	private final @Nullable Duration oursHandshakeTimeout;

	/** Whether Spring Boot's server listens on a Unix domain socket. */
	private final boolean domainSocket;

	CompanionGrpcServer(Environment environment, GrpcKeepAliveProperties keepAlive,
			ObjectProvider<GrpcServerLifecycle> lifecycle) {
		this.properties = new BootKeepAliveProperties(environment, logger);
		this.lifecycle = lifecycle;
		GrpcServerProperties server = this.properties.boots("spring.grpc.server", GrpcServerProperties.class);
		this.boots = server.getKeepalive();
		this.domainSocket = isDomainSocket(server);
		for (DurationOption option : DURATIONS) {
			Duration value = this.properties.ours(OURS + option.ours(), Duration.class);
			if (value != null) {
				this.ours.put(option.ours(), value);
			}
		}
		this.oursPermitWithoutCalls = this.properties.ours(OURS + "permit-without-calls", Boolean.class);
		this.limits = keepAlive.getServer().getLimits();
		this.oursMetadataSize = this.properties.ours(OURS + "limits.max-inbound-metadata-size", Object.class) != null;
		this.oursHandshakeTimeout = this.properties.ours(OURS + "handshake-timeout", Duration.class);
		this.settings = inForce();
		this.connections = ConnectionTracker.create(Side.SERVER, "server",
				this.settings.maxConnectionIdle().effective(), this.settings.maxConnectionAge().effective(),
				PingPolicy.of(this.settings.permitTime().effective(), this.settings.permitWithoutCalls()));
		this.transport = keepAlive.getFrames().isEnabled() ? FrameObservingTransport.forServer() : null;
		logger.info(AbuseLimitsLine.of(this.settings.limits(), this.oursMetadataSize,
				this.transport != null && (!this.domainSocket || this.transport.isEpoll())));
	}

	/**
	 * Whether Spring Boot's server listens on a Unix domain socket, decided as Spring Boot
	 * decides it: {@code spring.grpc.server.netty.transport} when set, else a domain socket
	 * path without an address or port.
	 */
	private static boolean isDomainSocket(GrpcServerProperties server) {
		GrpcServerProperties.Netty.Transport transport = server.getNetty().getTransport();
		if (transport != null) {
			return transport == GrpcServerProperties.Netty.Transport.DOMAIN_SOCKET;
		}
		return server.getAddress() == null && server.getPort() == null && server.getNetty().getDomainSocketPath() != null;
	}

	/**
	 * The options in force on Spring Boot's server, validated like this starter's own; each
	 * value taken from Spring Boot is reported under its {@code spring.grpc.*} name.
	 */
	private ServerKeepAliveSettings inForce() {
		GrpcKeepAliveProperties merged = new GrpcKeepAliveProperties();
		GrpcKeepAliveProperties.Server server = merged.getServer();
		copyLimits(this.limits, server.getLimits());
		Keepalive stock = new GrpcServerProperties().getKeepalive();
		PropertyNames names = PropertyNames.ours();
		for (DurationOption option : DURATIONS) {
			Duration value = this.ours.get(option.ours());
			if (value == null) {
				value = option.boots().apply(this.boots);
				names = names.with(OURS + option.ours(), BOOTS + option.bootsName(),
						BootKeepAliveProperties.bootsDefault(option.boots().apply(stock)));
			}
			if (value != null || option.nullMeansInfinite()) {
				option.merge().accept(server, value);
			}
		}
		// Spring Boot always hands grpc-java its grace period (30s by default), which grpc-java
		// ignores without a maximum age; this starter's validation would reject it as pointless
		if (server.getMaxConnectionAge() == null) {
			server.setMaxConnectionAgeGrace(null);
		}
		server.setPermitWithoutCalls((this.oursPermitWithoutCalls != null) ? this.oursPermitWithoutCalls
				: this.boots.getPermit().isWithoutCalls());
		if (this.oursHandshakeTimeout != null) {
			server.setHandshakeTimeout(this.oursHandshakeTimeout);
		}
		return KeepAliveSettings.resolve(merged, names).server();
	}

	@Override
	public void customize(NettyServerBuilder builder) {
		for (DurationOption option : DURATIONS) {
			Duration value = this.ours.get(option.ours());
			if (value != null) {
				option.apply().apply(builder, saturatedNanos(value), TimeUnit.NANOSECONDS);
				this.properties.logOverride(OURS + option.ours(), value, BOOTS + option.bootsName(),
						option.boots().apply(this.boots), WHERE);
			}
		}
		if (this.oursPermitWithoutCalls != null) {
			builder.permitKeepAliveWithoutCalls(this.oursPermitWithoutCalls);
			this.properties.logOverride(OURS + "permit-without-calls", this.oursPermitWithoutCalls,
					BOOTS + "permit.without-calls", this.boots.getPermit().isWithoutCalls(), WHERE);
		}
		if (this.oursHandshakeTimeout != null) {
			builder.handshakeTimeout(saturatedNanos(this.oursHandshakeTimeout), TimeUnit.NANOSECONDS);
		}
		ServerLimits.applyTo(builder, this.settings.limits(), this.oursMetadataSize);
		ConnectionInstrumentation.install(builder, this.connections, this.transport,
				this.settings.timeout().requireEffective(), this.settings.limits(), this.domainSocket);
	}

	private static void copyLimits(GrpcKeepAliveProperties.Limits from, GrpcKeepAliveProperties.Limits to) {
		to.setMaxRstFrames(from.getMaxRstFrames());
		to.setRstFramesWindow(from.getRstFramesWindow());
		to.setMaxConcurrentCallsPerConnection(from.getMaxConcurrentCallsPerConnection());
		to.setMaxInboundMetadataSize(from.getMaxInboundMetadataSize());
		to.setMaxConnections(from.getMaxConnections());
		to.setFloodWindow(from.getFloodWindow());
		to.setMaxUnsolicitedPingAcks(from.getMaxUnsolicitedPingAcks());
		to.setMaxSettingsFrames(from.getMaxSettingsFrames());
		to.setMaxConsecutiveEmptyFrames(from.getMaxConsecutiveEmptyFrames());
		to.setMaxWindowUpdateFrames(from.getMaxWindowUpdateFrames());
		to.setWindowUpdateRatio(from.getWindowUpdateRatio());
		to.setMaxPrematureResets(from.getMaxPrematureResets());
		to.setCondenseGrpcLogs(from.isCondenseGrpcLogs());
	}

	@Override
	public int getPort() {
		GrpcServerLifecycle server = networkServer();
		return (server != null) ? server.getPort() : -1;
	}

	@Override
	public boolean isRunning() {
		GrpcServerLifecycle server = networkServer();
		return server != null && server.isRunning();
	}

	/**
	 * The lifecycle of the server this customizer instruments: with an in-process server
	 * beside it there are two lifecycles.
	 */
	private @Nullable GrpcServerLifecycle networkServer() {
		return this.lifecycle.orderedStream()
			.filter((server) -> server.getFactory() instanceof ShadedNettyGrpcServerFactory)
			.findFirst()
			.orElse(null);
	}

	@Override
	public ServerKeepAliveSettings getSettings() {
		return this.settings;
	}

	@Override
	public ConnectionTrackerView getConnections() {
		return this.connections.view();
	}

	@Override
	public DrainResult drain(String connectionId, Duration grace) {
		return this.connections.drain(connectionId, grace);
	}

	/** Closes from now on are the application's doing: Spring Boot's server stops next. */
	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		this.connections.shutdown().start();
	}

	/** Runs after Spring Boot's server has stopped, which depends on this customizer. */
	@Override
	public void destroy() {
		if (this.transport != null) {
			this.transport.close();
		}
	}

	/** Calls one of {@link NettyServerBuilder}'s duration setters. */
	@FunctionalInterface
	private interface BuilderSetter {

		void apply(NettyServerBuilder builder, long duration, TimeUnit unit);

	}

	/**
	 * One duration option of the server.
	 * @param ours the name below {@code grpc.keepalive.server.}
	 * @param bootsName the name below {@code spring.grpc.server.keepalive.}
	 * @param boots how to read Spring Boot's value
	 * @param merge how to set the value in force on this starter's properties, for validation
	 * @param apply how to hand this starter's value to grpc-java
	 */
	private record DurationOption(String ours, String bootsName, Function<Keepalive, @Nullable Duration> boots,
			BiConsumer<GrpcKeepAliveProperties.Server, @Nullable Duration> merge, BuilderSetter apply) {

		/**
		 * Whether an unset value means no limit. Otherwise (time, timeout, permit time) Spring
		 * Boot applies nothing when its value is unset, and grpc-java's default stays, which is
		 * also the default of this starter's properties.
		 */
		boolean nullMeansInfinite() {
			return this.ours.startsWith("max-connection");
		}

	}

}
