package dev.grpckeepalive.actuate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionRecord;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.server.ObservedGrpcServer;

/**
 * The {@code grpc.keepalive.*} meters of the server and of every channel. Counters read the
 * trackers' totals when scraped, so they cost nothing on the connection's path; the two
 * timers are fed per sample through a tracker listener. Every meter is registered once, at
 * bind time, with tags of low cardinality: {@code side}, {@code channel} (the channel name,
 * {@code server} for the server), and where it applies {@code kind}, {@code direction} and
 * {@code reason} from fixed sets.
 */
public class GrpcKeepAliveMeterBinder implements MeterBinder {

	private final @Nullable ObservedGrpcServer server;

	private final List<TrackedChannels> channels;

	/** Trackers already bound, per registry: channels created later are bound once, when they appear. */
	private final Map<MeterRegistry, Set<ConnectionTracker>> bound = new ConcurrentHashMap<>();

	public GrpcKeepAliveMeterBinder(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels) {
		this.server = server;
		this.channels = List.copyOf(channels);
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		if (this.server != null) {
			bindOnce(this.server.getConnections(), registry);
		}
		for (TrackedChannels source : this.channels) {
			source.tracked().values().forEach((channel) -> bindOnce(channel.connections(), registry));
			source.onNewChannel((channel) -> bindOnce(channel.connections(), registry));
		}
	}

	private void bindOnce(ConnectionTracker tracker, MeterRegistry registry) {
		Set<ConnectionTracker> trackers = this.bound.computeIfAbsent(registry,
				(key) -> Collections.newSetFromMap(new IdentityHashMap<>()));
		synchronized (trackers) {
			if (!trackers.add(tracker)) {
				return;
			}
		}
		bind(tracker, registry);
	}

	private void bind(ConnectionTracker tracker, MeterRegistry registry) {
		Tags tags = Tags.of("side", tracker.side().tag(), "channel", tracker.name());
		for (PingKind kind : PingKind.values()) {
			FunctionCounter.builder("grpc.keepalive.pings.sent", tracker, (t) -> t.pings().sent(kind))
				.description("HTTP/2 PING frames this side originated")
				.tags(tags)
				.tag("kind", kind.tag())
				.register(registry);
		}
		FunctionCounter.builder("grpc.keepalive.pings.received", tracker, (t) -> t.pings().received())
			.description("HTTP/2 PING frames the peer originated")
			.tags(tags)
			.register(registry);
		FunctionCounter.builder("grpc.keepalive.ping.timeouts", tracker, (t) -> t.pings().timeouts())
			.description("Keepalive PINGs not acknowledged within the keepalive timeout")
			.tags(tags)
			.register(registry);
		for (String direction : List.of(GoAway.SENT, GoAway.RECEIVED)) {
			for (String reason : goAwayReasons()) {
				FunctionCounter.builder("grpc.keepalive.goaways", tracker, (t) -> t.goAwayCount(direction, reason))
					.description("GOAWAY frames, by direction and what they meant")
					.tags(tags)
					.tag("direction", direction)
					.tag("reason", reason)
					.register(registry);
			}
		}
		Gauge.builder("grpc.keepalive.connections.active", tracker, ConnectionTracker::activeConnections)
			.description("Open connections")
			.tags(tags)
			.register(registry);
		for (CloseReason reason : CloseReason.values()) {
			FunctionCounter.builder("grpc.keepalive.connections.closed", tracker, (t) -> t.closedConnections(reason))
				.description("Closed connections, by why they closed")
				.tags(tags)
				.tag("reason", reason.tag())
				.register(registry);
		}
		Timer rtt = Timer.builder("grpc.keepalive.ping.rtt")
			.description("Round-trip time from a PING this side sent to its ACK")
			.tags(tags)
			.register(registry);
		List<Timer> lifetimes = new ArrayList<>();
		for (CloseReason reason : CloseReason.values()) {
			lifetimes.add(Timer.builder("grpc.keepalive.connection.lifetime")
				.description("How long connections lived, by why they closed")
				.tags(tags)
				.tag("reason", reason.tag())
				.register(registry));
		}
		tracker.addListener(new ConnectionTracker.ConnectionListener() {

			@Override
			public void pingAcknowledged(ConnectionTracker source, PingKind kind, long roundTripNanos) {
				rtt.record(roundTripNanos, TimeUnit.NANOSECONDS);
			}

			@Override
			public void connectionClosed(ConnectionTracker source, ConnectionRecord record) {
				lifetimes.get(record.closeReason().ordinal()).record(record.ageNanos(), TimeUnit.NANOSECONDS);
			}

		});
	}

	private static List<String> goAwayReasons() {
		List<String> reasons = new ArrayList<>();
		for (CloseReason reason : CloseReason.values()) {
			reasons.add(reason.tag());
		}
		reasons.add(GoAway.OTHER);
		return reasons;
	}

}
