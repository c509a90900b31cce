package dev.grpckeepalive.actuate;

import java.time.Duration;

import io.grpc.ConnectivityState;

import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.connection.ConnectionTrackerView;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Health of one channel: DOWN in TRANSIENT_FAILURE, and for the whole health window after a
 * keepalive timeout or a {@code too_many_pings} GOAWAY, so that one bad moment shows for
 * long enough to be seen and the indicator does not flap. A late PING that is still
 * acknowledged within the keepalive timeout is not a timeout and changes nothing.
 */
final class ChannelHealthIndicator implements HealthIndicator {

	private final TrackedChannel channel;

	private final Duration window;

	ChannelHealthIndicator(TrackedChannel channel, Duration window) {
		this.channel = channel;
		this.window = window;
	}

	@Override
	public Health health() {
		ConnectivityState state = (this.channel.channel() != null) ? this.channel.channel().getState(false) : null;
		ConnectionTrackerView tracker = this.channel.connections();
		Health.Builder health = Health.up();
		if (state == ConnectivityState.TRANSIENT_FAILURE) {
			health = Health.down().withDetail("reason", "channel in TRANSIENT_FAILURE");
		}
		else if (tracker.keepAliveTimeoutWithin(this.window)) {
			health = Health.down().withDetail("reason", "keepalive timeout within the last " + DurationFormat.format(this.window));
		}
		else if (tracker.tooManyPingsWithin(this.window)) {
			health = Health.down()
				.withDetail("reason", "GOAWAY too_many_pings within the last " + DurationFormat.format(this.window)
						+ ": this channel pings more often than the server permits");
		}
		else if (state == ConnectivityState.SHUTDOWN) {
			health = Health.outOfService().withDetail("reason", "channel shut down");
		}
		return health.withDetail("target", this.channel.settings().target())
			.withDetail("state", (state != null) ? state.name() : "UNKNOWN")
			.withDetail("activeConnections", tracker.activeConnections())
			.withDetail("keepaliveTimeoutsTotal", tracker.pings().timeouts())
			.build();
	}

}
