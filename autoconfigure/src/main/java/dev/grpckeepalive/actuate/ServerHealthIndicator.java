package dev.grpckeepalive.actuate;

import java.time.Duration;

import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of the server: UP while it serves. Keepalive timeouts and {@code too_many_pings}
 * GOAWAYs on the server's side are the clients' trouble, not the server's: they show as
 * details, and make the indicator neither DOWN nor flap.
 */
final class ServerHealthIndicator implements HealthIndicator {

	private final ObservedGrpcServer server;

	private final Duration window;

	ServerHealthIndicator(ObservedGrpcServer server, Duration window) {
		this.server = server;
		this.window = window;
	}

	@Override
	public Health health() {
		ConnectionTrackerView tracker = this.server.getConnections();
		Health.Builder health = this.server.isRunning() ? Health.up() : Health.down().withDetail("reason", "not running");
		return health.withDetail("port", this.server.getPort())
			.withDetail("activeConnections", tracker.activeConnections())
			.withDetail("keepaliveTimeoutWithinWindow", tracker.keepAliveTimeoutWithin(this.window))
			.withDetail("tooManyPingsWithinWindow", tracker.tooManyPingsWithin(this.window))
			.withDetail("closedTooManyPings", tracker.closedConnections(CloseReason.TOO_MANY_PINGS))
			.build();
	}

}
