package dev.grpckeepalive.server.health;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.grpckeepalive.server.GrpcServerListener;
import dev.grpckeepalive.server.ServerBuilderCustomizer;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationListener;

/**
 * The starter's {@code grpc.health.v1} service: grpc-java's {@link HealthStatusManager}, served
 * on the starter's own server, with every served service listed and the status, overall
 * ({@code ""}) and per service, following the application's readiness:
 * {@link ReadinessState#ACCEPTING_TRAFFIC} is SERVING, {@link ReadinessState#REFUSING_TRAFFIC}
 * NOT_SERVING. When the server's graceful shutdown begins, before its GOAWAY, every status
 * turns NOT_SERVING for good, so that load balancers and probes stop sending new calls while
 * in-flight calls finish; once the GOAWAY is out, the {@code Watch} streams complete
 * ({@link WatchCalls}) rather than hold the drain.
 *
 * <p>Not added when the application serves {@code grpc.health.v1.Health} itself: grpc-java would
 * otherwise keep one of the two silently.
 */
final class ServerHealth implements ServerBuilderCustomizer, GrpcServerListener,
		ApplicationListener<AvailabilityChangeEvent<ReadinessState>> {

	static final String SERVICE_NAME = HealthGrpc.SERVICE_NAME;

	private static final Log logger = LogFactory.getLog(ServerHealth.class);

	private final HealthStatusManager manager = new HealthStatusManager();

	private final WatchCalls watches = new WatchCalls();

	private final List<String> applicationServices;

	/** The services whose status is set, besides the overall one: those the server serves, once it has started. */
	private final Set<String> services = new CopyOnWriteArraySet<>();

	private volatile ReadinessState readiness;

	private volatile boolean active;

	/**
	 * @param applicationServices the names of the services the application's beans define
	 * @param readiness the application's readiness when the server starts
	 */
	ServerHealth(List<String> applicationServices, ReadinessState readiness) {
		this.applicationServices = applicationServices;
		this.readiness = readiness;
	}

	@Override
	public void customize(NettyServerBuilder builder) {
		if (this.applicationServices.contains(SERVICE_NAME)) {
			logger.info("The application serves " + SERVICE_NAME + " itself; the starter's health service backs off");
			return;
		}
		this.active = true;
		builder.addService(ServerInterceptors.intercept(this.manager.getHealthService(), this.watches));
	}

	@Override
	public void started(Server server) {
		if (!this.active) {
			return;
		}
		for (ServerServiceDefinition service : server.getServices()) {
			this.services.add(service.getServiceDescriptor().getName());
		}
		apply(this.readiness);
	}

	@Override
	public void onApplicationEvent(AvailabilityChangeEvent<ReadinessState> event) {
		this.readiness = event.getState();
		if (this.active) {
			apply(event.getState());
		}
	}

	/** Once in its terminal state, the manager ignores this: a late readiness change cannot undo the drain. */
	private void apply(ReadinessState readiness) {
		ServingStatus status = (readiness == ReadinessState.ACCEPTING_TRAFFIC) ? ServingStatus.SERVING
				: ServingStatus.NOT_SERVING;
		this.manager.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
		this.services.forEach((service) -> this.manager.setStatus(service, status));
	}

	@Override
	public void shutdownStarting() {
		if (this.active) {
			this.manager.enterTerminalState();
		}
	}

	@Override
	public void draining() {
		if (this.active) {
			this.watches.endAll();
		}
	}

	/** Whether the starter's health service is served (false when the application serves its own). */
	boolean isActive() {
		return this.active;
	}

	WatchCalls watches() {
		return this.watches;
	}

}
