package dev.grpckeepalive.server;

import java.io.IOException;
import java.net.BindException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.Server;
import io.grpc.Status;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.DrainResult;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertySource;

/**
 * The auto-configured gRPC server, started and stopped with the application context.
 *
 * <p>Starts late and stops early ({@link #PHASE}), so that the beans services depend on are
 * up while calls arrive. Stopping is graceful: new connections and calls are refused,
 * in-flight calls get {@code grpc.keepalive.server.shutdown-grace} to finish, and whatever
 * is still running after that is closed with {@code UNAVAILABLE} and a description naming
 * the shutdown and the grace (grpc-java's {@code shutdownNow()} only as a last resort).
 * While it runs, a non-daemon thread keeps the JVM alive. Once started, the bound port is
 * published in the environment as {@value #LOCAL_PORT_PROPERTY}.
 *
 * <p>{@link GrpcServerListener}s are told of the start, of the shutdown's start (before the
 * GOAWAY: the starter's health service turns NOT_SERVING there) and of the drain (right after
 * the GOAWAY).
 */
public class KeepAliveGrpcServer implements SmartLifecycle, DisposableBean, ObservedGrpcServer {

	/** The environment property that holds the port the server is listening on. */
	public static final String LOCAL_PORT_PROPERTY = "local.grpc.port";

	/**
	 * The phase of Spring Boot's web server start and stop: lifecycle beans of the default phase start after
	 * it and stop before it, as does Spring Boot's graceful web shutdown (docs/kubernetes.md, the shutdown order).
	 */
	public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 2048;

	private static final String PORTS_PROPERTY_SOURCE = "grpcKeepAliveServerPorts";

	/**
	 * How long calls closed after the grace get to reach their clients before shutdownNow:
	 * only a close the application is in the middle of a send for, or a client that reads
	 * nothing, takes more than a moment.
	 */
	private static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

	/** How long to wait for cancelled calls to wind down after shutdownNow. */
	private static final Duration TERMINATION_WAIT = Duration.ofSeconds(5);

	private static final Log logger = LogFactory.getLog(KeepAliveGrpcServer.class);

	private final Server server;

	private final int configuredPort;

	private final Duration shutdownGrace;

	private final @Nullable ConfigurableEnvironment environment;

	private final ConnectionTracker connections;

	private final ServerKeepAliveSettings settings;

	private final @Nullable AutoCloseable transport;

	private final List<GrpcServerListener> listeners;

	private volatile boolean running;

	/**
	 * Wraps a built, not yet started, grpc-java server.
	 * @param server the server to manage
	 * @param configuredPort the port it was configured with, reported until it is bound
	 * @param shutdownGrace how long in-flight calls get to finish when the server stops
	 * @param environment where to publish {@value #LOCAL_PORT_PROPERTY}, if any
	 * @param settings the keepalive settings the server was built with
	 * @param connections the tracker the server's transport filter and interceptor feed
	 * @param transport event loops to close once the server has terminated, if the server owns them
	 */
	public KeepAliveGrpcServer(Server server, int configuredPort, Duration shutdownGrace,
			@Nullable ConfigurableEnvironment environment, ServerKeepAliveSettings settings,
			ConnectionTracker connections, @Nullable AutoCloseable transport) {
		this(server, configuredPort, shutdownGrace, environment, settings, connections, transport, List.of());
	}

	/**
	 * Wraps a built, not yet started, grpc-java server whose start and graceful shutdown
	 * {@code listeners} are told of.
	 * @param server the server to manage
	 * @param configuredPort the port it was configured with, reported until it is bound
	 * @param shutdownGrace how long in-flight calls get to finish when the server stops
	 * @param environment where to publish {@value #LOCAL_PORT_PROPERTY}, if any
	 * @param settings the keepalive settings the server was built with
	 * @param connections the tracker the server's transport filter and interceptor feed
	 * @param transport event loops to close once the server has terminated, if the server owns them
	 * @param listeners told of the start and of the shutdown's steps, in this order
	 */
	public KeepAliveGrpcServer(Server server, int configuredPort, Duration shutdownGrace,
			@Nullable ConfigurableEnvironment environment, ServerKeepAliveSettings settings,
			ConnectionTracker connections, @Nullable AutoCloseable transport, List<GrpcServerListener> listeners) {
		this.listeners = List.copyOf(listeners);
		this.server = server;
		this.configuredPort = configuredPort;
		this.shutdownGrace = shutdownGrace;
		this.environment = environment;
		this.settings = settings;
		this.connections = connections;
		this.transport = transport;
	}

	@Override
	public void start() {
		if (this.running) {
			return;
		}
		try {
			this.server.start();
		}
		catch (IOException ex) {
			closeTransport();
			if (isPortInUse(ex)) {
				throw new GrpcServerPortInUseException(this.configuredPort, ex);
			}
			throw new IllegalStateException("gRPC server failed to start on port " + this.configuredPort, ex);
		}
		this.running = true;
		keepJvmAlive();
		publishPort(getPort());
		this.listeners.forEach((listener) -> listener.started(this.server));
		logger.info("gRPC server started on port " + getPort() + " with "
				+ this.server.getServices().size() + " service(s)");
	}

	/**
	 * grpc-java's Netty threads are daemon threads: without one non-daemon thread a
	 * server-only application would exit as soon as its main method returns.
	 */
	private void keepJvmAlive() {
		Thread awaiter = new Thread(() -> {
			try {
				this.server.awaitTermination();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}, "grpc-server-await-" + this.server.getPort());
		awaiter.setDaemon(false);
		awaiter.start();
	}

	private static boolean isPortInUse(Throwable failure) {
		for (Throwable candidate = failure; candidate != null; candidate = candidate.getCause()) {
			// Netty's epoll transport reports EADDRINUSE as a NativeIoException, not a BindException.
			if (candidate instanceof BindException || String.valueOf(candidate.getMessage()).contains("Address already in use")) {
				return true;
			}
		}
		return false;
	}

	@Override
	public void stop() {
		if (!this.running) {
			return;
		}
		this.running = false;
		// before the GOAWAY: health turns NOT_SERVING while the server still answers the probes that read it
		tell(GrpcServerListener::shutdownStarting);
		this.connections.shutdown().start();
		shutDownGracefully();
		closeTransport();
	}

	/** A listener that fails must not keep the server from draining and stopping. */
	private void tell(Consumer<GrpcServerListener> step) {
		for (GrpcServerListener listener : this.listeners) {
			try {
				step.accept(listener);
			}
			catch (RuntimeException ex) {
				logger.warn("gRPC server listener " + listener + " failed during the shutdown", ex);
			}
		}
	}

	/** Releases the event loops also when the context closes without the server having started. */
	@Override
	public void destroy() {
		stop();
		closeTransport();
	}

	private void closeTransport() {
		if (this.transport != null) {
			try {
				this.transport.close();
			}
			catch (Exception ex) {
				logger.warn("Failed to close the gRPC server's event loops", ex);
			}
		}
	}

	private void shutDownGracefully() {
		this.server.shutdown();
		tell(GrpcServerListener::draining);
		try {
			if (!this.server.awaitTermination(this.shutdownGrace.toNanos(), TimeUnit.NANOSECONDS)) {
				logger.warn("gRPC calls still running after grpc.keepalive.server.shutdown-grace="
						+ this.shutdownGrace.toMillis() + "ms; closing them with UNAVAILABLE");
				// Closed with a status, the calls end like any other and grpc-java completes its graceful
				// shutdown by itself. shutdownNow() would reset their streams, which clients see as
				// CANCELLED: RST_STREAM closed stream, saying nothing of why.
				this.connections.shutdown().closeCalls(shutdownStatus(this.shutdownGrace));
				if (!this.server.awaitTermination(CLOSE_WAIT.toNanos(), TimeUnit.NANOSECONDS)) {
					this.server.shutdownNow();
					this.server.awaitTermination(TERMINATION_WAIT.toNanos(), TimeUnit.NANOSECONDS);
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.server.shutdownNow();
		}
	}

	/** What clients of calls still running when the grace has run out get. */
	static Status shutdownStatus(Duration shutdownGrace) {
		return Status.UNAVAILABLE.withDescription("Server shutting down: call still running after "
				+ "grpc.keepalive.server.shutdown-grace=" + shutdownGrace.toMillis() + "ms");
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

	/**
	 * The port the server listens on: the bound port once started, else the configured one.
	 * @return the port
	 */
	@Override
	public int getPort() {
		return this.running ? this.server.getPort() : this.configuredPort;
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

	/** The underlying grpc-java server. */
	public Server getServer() {
		return this.server;
	}

	private void publishPort(int port) {
		if (this.environment == null) {
			return;
		}
		MutablePropertySources sources = this.environment.getPropertySources();
		PropertySource<?> existing = sources.get(PORTS_PROPERTY_SOURCE);
		if (existing instanceof MapPropertySource mapSource) {
			mapSource.getSource().put(LOCAL_PORT_PROPERTY, port);
			return;
		}
		sources.addFirst(new MapPropertySource(PORTS_PROPERTY_SOURCE,
				new HashMap<>(Map.of(LOCAL_PORT_PROPERTY, port))));
	}

}
