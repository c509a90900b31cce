package dev.grpckeepalive.actuate;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.actuate.KeepAliveMeter.Tag;
import dev.grpckeepalive.advisor.FindingType;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.advisor.Severity;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.server.ObservedGrpcServer;

/**
 * The {@code grpc.keepalive.*} meters of the server and of every channel, as
 * {@link KeepAliveMeter} declares them. Counters read the
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
	private final Map<MeterRegistry, Set<ConnectionTrackerView>> bound = new ConcurrentHashMap<>();

	private final @Nullable KeepAliveAdvisor advisor;

	public GrpcKeepAliveMeterBinder(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels) {
		this(server, channels, null);
	}

	/**
	 * A binder that also registers {@code grpc.keepalive.advice.findings}.
	 * @param server the server, if any
	 * @param channels the channels
	 * @param advisor the keepalive advisor, or {@code null} when it is off
	 */
	public GrpcKeepAliveMeterBinder(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels,
			@Nullable KeepAliveAdvisor advisor) {
		this.server = server;
		this.channels = List.copyOf(channels);
		this.advisor = advisor;
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

	private void bindOnce(ConnectionTrackerView tracker, MeterRegistry registry) {
		Set<ConnectionTrackerView> trackers = this.bound.computeIfAbsent(registry,
				(key) -> Collections.newSetFromMap(new IdentityHashMap<>()));
		synchronized (trackers) {
			if (!trackers.add(tracker)) {
				return;
			}
		}
		bind(tracker, registry);
	}

	private void bind(ConnectionTrackerView tracker, MeterRegistry registry) {
		Tags tags = Tags.of(Tag.SIDE.asString(), tracker.side().tag(), Tag.CHANNEL.asString(), tracker.name());
		for (PingKind kind : PingKind.values()) {
			counter(KeepAliveMeter.PINGS_SENT, tracker, (t) -> t.pings().sent(kind), tags.and(Tag.KIND.asString(), kind.tag()),
					registry);
		}
		counter(KeepAliveMeter.PINGS_RECEIVED, tracker, (t) -> t.pings().received(), tags, registry);
		counter(KeepAliveMeter.PING_TIMEOUTS, tracker, (t) -> t.pings().timeouts(), tags, registry);
		for (GoAway.Direction direction : GoAway.Direction.values()) {
			for (String reason : goAwayReasons()) {
				counter(KeepAliveMeter.GOAWAYS, tracker, (t) -> t.goAwayCount(direction, reason),
						tags.and(Tag.DIRECTION.asString(), direction.tag(), Tag.REASON.asString(), reason), registry);
			}
		}
		Gauge.builder(KeepAliveMeter.CONNECTIONS_ACTIVE.getName(), tracker, ConnectionTrackerView::activeConnections)
			.description(KeepAliveMeter.CONNECTIONS_ACTIVE.getDescription())
			.tags(tags)
			.register(registry);
		for (CloseReason reason : CloseReason.values()) {
			counter(KeepAliveMeter.CONNECTIONS_CLOSED, tracker, (t) -> t.closedConnections(reason),
					tags.and(Tag.REASON.asString(), reason.tag()), registry);
		}
		if (this.advisor != null) {
			bindFindings(this.advisor, tracker, tags, registry);
		}
		Timer rtt = timer(KeepAliveMeter.PING_RTT, tags, registry);
		List<Timer> lifetimes = new ArrayList<>();
		for (CloseReason reason : CloseReason.values()) {
			lifetimes.add(timer(KeepAliveMeter.CONNECTION_LIFETIME, tags.and(Tag.REASON.asString(), reason.tag()), registry));
		}
		tracker.addListener(new ConnectionTrackerView.ConnectionListener() {

			@Override
			public void pingAcknowledged(ConnectionTrackerView source, PingKind kind, long roundTripNanos) {
				rtt.record(roundTripNanos, TimeUnit.NANOSECONDS);
			}

			@Override
			public void connectionClosed(ConnectionTrackerView source, ConnectionSnapshot connection) {
				CloseReason reason = Objects.requireNonNull(connection.closeReason());
				lifetimes.get(reason.ordinal()).record(connection.ageNanos(), TimeUnit.NANOSECONDS);
			}

		});
	}

	/** One gauge per finding type that concerns the tracker's side and per severity the type can have. */
	private static void bindFindings(KeepAliveAdvisor advisor, ConnectionTrackerView tracker, Tags tags,
			MeterRegistry registry) {
		for (FindingType type : FindingType.values()) {
			if (!type.concerns(tracker.side())) {
				continue;
			}
			for (Severity severity : type.severities()) {
				Gauge.builder(KeepAliveMeter.ADVICE_FINDINGS.getName(), advisor,
						(a) -> a.count(type, severity, tracker.side(), tracker.name()))
					.description(KeepAliveMeter.ADVICE_FINDINGS.getDescription())
					.tags(tags.and(Tag.TYPE.asString(), type.tag(), Tag.SEVERITY.asString(), severity.tag()))
					.register(registry);
			}
		}
	}

	private static void counter(KeepAliveMeter meter, ConnectionTrackerView tracker,
			ToDoubleFunction<ConnectionTrackerView> count, Tags tags, MeterRegistry registry) {
		FunctionCounter.builder(meter.getName(), tracker, count)
			.description(meter.getDescription())
			.tags(tags)
			.register(registry);
	}

	private static Timer timer(KeepAliveMeter meter, Tags tags, MeterRegistry registry) {
		return Timer.builder(meter.getName()).description(meter.getDescription()).tags(tags).register(registry);
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
