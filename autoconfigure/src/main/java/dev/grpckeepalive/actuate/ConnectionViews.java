package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingKind;
import dev.grpckeepalive.connection.PingStatistics;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.SilenceBeforeClose;

/**
 * The endpoint's descriptors of settings, trackers and connections, as docs/actuator.md
 * documents them, and the code that makes them from trackers and snapshots.
 *
 * <p>Each JSON object is a record: Jackson writes a record's components in declaration order,
 * so the order of the components is the order of the keys. A {@code null} component is written
 * as {@code null}, except where the record says {@link JsonInclude @JsonInclude(NON_NULL)}:
 * there the JSON leaves the key out. Maps remain only where the keys are data (close reasons,
 * PING kinds, GOAWAY reasons, channel names). A connection is one record with a few small
 * nested ones, not a hash map of twenty entries: the list may hold 10k connections. The records
 * are package-private: Jackson reads them by reflection, the endpoint's callers as JSON.
 */
final class ConnectionViews {

	static final String MASK = "******";

	/** The summary lists this many recently closed connections; all of them stay reachable by id. */
	static final int RECENTLY_CLOSED_SHOWN = 20;

	/** Sized so that every close reason fits without a resize. */
	private static final int CLOSE_REASONS_CAPACITY = (int) (CloseReason.values().length / 0.75f) + 1;

	private static final int PING_KINDS_CAPACITY = (int) (PingKind.values().length / 0.75f) + 1;

	private ConnectionViews() {
	}

	/**
	 * A setting as requested and as grpc-java applies it: a duration as text ({@code infinite}
	 * when none), a limit as a number ({@code "off"} when turned off).
	 * @param adjustment why the two differ, absent when they do not
	 */
	record SettingDescriptor(Object requested, Object effective,
			@JsonInclude(Include.NON_NULL) @Nullable String adjustment) {
	}

	/** The server's abuse limits, each as requested and effective. */
	record LimitsDescriptor(SettingDescriptor maxRstFrames, SettingDescriptor rstFramesWindow,
			SettingDescriptor maxConcurrentCallsPerConnection, SettingDescriptor maxInboundMetadataSize,
			SettingDescriptor maxConnections, SettingDescriptor floodWindow, SettingDescriptor maxUnsolicitedPingAcks,
			SettingDescriptor maxSettingsFrames, SettingDescriptor maxConsecutiveEmptyFrames,
			SettingDescriptor maxWindowUpdateFrames, SettingDescriptor windowUpdateRatio,
			SettingDescriptor maxPrematureResets) {
	}

	/** A tracker's PING counts: {@link Observed}, or {@link Unavailable} without the frame observer. */
	sealed interface PingsDescriptor permits Observed, Unavailable {
	}

	/** PING counts, {@code rttMillis} {@code null} before the first ACK. */
	record Observed(long sent, Map<String, Long> sentByKind, long acked, long received, long timeouts,
			@Nullable RoundTripDescriptor rttMillis) implements PingsDescriptor {
	}

	/** {@code {"available": false}}: no frame observer, no PING or GOAWAY counts. */
	record Unavailable(boolean available) implements PingsDescriptor, GoAwaysDescriptor {

		static final Unavailable INSTANCE = new Unavailable(false);

	}

	record RoundTripDescriptor(double last, double min, double mean, double max) {
	}

	/** A tracker's GOAWAY frames by direction and reason: {@link GoAwayCounts}, or {@link Unavailable}. */
	sealed interface GoAwaysDescriptor permits GoAwayCounts, Unavailable {
	}

	/** GOAWAY frames sent and received, by reason tag. */
	record GoAwayCounts(Map<String, Long> sent, Map<String, Long> received) implements GoAwaysDescriptor {
	}

	/**
	 * A tracker's connection counts. The server adds {@code refused}; a channel adds its
	 * {@code open} connections. Absent where they do not apply.
	 */
	record ConnectionsDescriptor(int active, long opened, Map<String, Long> closed,
			@JsonInclude(Include.NON_NULL) @Nullable Long refused,
			@JsonInclude(Include.NON_NULL) @Nullable List<ConnectionDescriptor> open,
			List<RecentlyClosedDescriptor> recentlyClosed) {
	}

	record RecentlyClosedDescriptor(String id, String remote, @Nullable String closeReason, @Nullable String closedAt,
			long lifetimeMillis) {
	}

	/**
	 * One connection. {@code idleMillis}, {@code activeCalls}, {@code totalCalls} and
	 * {@code unfinishedCallsAtClose} are {@code null} on a channel's connections: a channel
	 * counts calls per channel, not per connection.
	 */
	record ConnectionDescriptor(String id, String side, String channel, String remote, String local, @Nullable String openedAt,
			long ageMillis, @Nullable Long idleMillis, @Nullable Integer activeCalls, @Nullable Long totalCalls,
			String state, @Nullable String closeReason, @Nullable String closedAt, @Nullable String abuseLimit,
			@Nullable SilenceDescriptor silenceBeforeClose, @Nullable List<Long> unfinishedCallsAtClose,
			boolean socketReleasedByStarter, PingsDescriptor pings, LastGoAways goaways, String observer) {
	}

	record SilenceDescriptor(long millis, boolean afterWrite, boolean withCalls) {
	}

	record LastGoAways(@Nullable GoAwayDescriptor lastSent, @Nullable GoAwayDescriptor lastReceived) {
	}

	record GoAwayDescriptor(String errorCode, String debugData, String reason, @Nullable String at) {
	}

	static SettingDescriptor setting(DurationSetting setting) {
		return new SettingDescriptor(text(setting.requested()), text(setting.effective()), setting.adjustment());
	}

	/** The server's abuse limits, each as requested and effective; {@code "off"} for a limit turned off. */
	static LimitsDescriptor limits(ServerLimitSettings limits) {
		return new LimitsDescriptor(setting(limits.maxRstFrames()), setting(limits.rstFramesWindow()),
				setting(limits.maxConcurrentCallsPerConnection()), setting(limits.maxInboundMetadataSize()),
				setting(limits.maxConnections()), setting(limits.floodWindow()), setting(limits.maxUnsolicitedPingAcks()),
				setting(limits.maxSettingsFrames()), setting(limits.maxConsecutiveEmptyFrames()),
				setting(limits.maxWindowUpdateFrames()), setting(limits.windowUpdateRatio()),
				setting(limits.maxPrematureResets()));
	}

	static SettingDescriptor setting(LimitSetting setting) {
		return new SettingDescriptor((setting.requested() != null) ? setting.requested() : "off",
				(setting.effective() != null) ? setting.effective() : "off", setting.adjustment());
	}

	private static String text(@Nullable Duration duration) {
		return (duration != null) ? DurationFormat.format(duration) : "infinite";
	}

	/** The counts by close reason, every reason present. */
	static Map<String, Long> closed(ConnectionTrackerView tracker) {
		Map<String, Long> closed = new LinkedHashMap<>(CLOSE_REASONS_CAPACITY);
		for (CloseReason reason : CloseReason.values()) {
			closed.put(reason.tag(), tracker.closedConnections(reason));
		}
		return closed;
	}

	static List<RecentlyClosedDescriptor> recentlyClosed(ConnectionTrackerView tracker, boolean showPeers) {
		List<ConnectionSnapshot> closed = tracker.recentlyClosed();
		int shown = Math.min(RECENTLY_CLOSED_SHOWN, closed.size());
		List<RecentlyClosedDescriptor> newestFirst = new ArrayList<>(shown);
		for (int i = closed.size() - 1; i >= closed.size() - shown; i--) {
			ConnectionSnapshot record = closed.get(i);
			newestFirst.add(new RecentlyClosedDescriptor(record.id(), peer(record, showPeers), tag(record.closeReason()),
					instant(record.closedAtMillis()), record.age().toMillis()));
		}
		return newestFirst;
	}

	static PingsDescriptor pings(PingStatistics pings, boolean available) {
		return available ? pings(pings.snapshot(), true) : Unavailable.INSTANCE;
	}

	static PingsDescriptor pings(PingStatistics.Snapshot snapshot, boolean available) {
		if (!available) {
			return Unavailable.INSTANCE;
		}
		PingStatistics.RoundTrip rtt = snapshot.rttMillis();
		Map<String, Long> byKind = new LinkedHashMap<>(PING_KINDS_CAPACITY);
		snapshot.sentByKind().forEach((kind, count) -> byKind.put(kind.tag(), count));
		return new Observed(snapshot.sent(), byKind, snapshot.acked(), snapshot.received(),
				snapshot.timeouts(),
				(rtt != null) ? new RoundTripDescriptor(rtt.last(), rtt.min(), rtt.mean(), rtt.max()) : null);
	}

	/** The summary's GOAWAY counts of a tracker, by direction and reason. */
	static GoAwaysDescriptor goAways(ConnectionTrackerView tracker) {
		if (!tracker.isFramesObserved()) {
			return Unavailable.INSTANCE;
		}
		return new GoAwayCounts(tracker.goAways(GoAway.Direction.SENT), tracker.goAways(GoAway.Direction.RECEIVED));
	}

	static ConnectionDescriptor connection(ConnectionSnapshot record, boolean showPeers) {
		// a channel counts calls per channel, not per connection: no per-connection calls or idle time
		boolean server = record.side() == Side.SERVER;
		List<Long> unfinished = null;
		if (server) {
			List<Duration> ages = record.unfinishedCallsAtClose();
			unfinished = ages.isEmpty() ? List.of() : ages.stream().map(Duration::toMillis).toList();
		}
		return new ConnectionDescriptor(record.id(), record.side().tag(), record.channel(), peer(record, showPeers),
				String.valueOf(record.local()), instant(record.openedAtMillis()), record.age().toMillis(),
				server ? record.idle().toMillis() : null, server ? record.activeCalls() : null,
				server ? record.totalCalls() : null, record.state().tag(), tag(record.closeReason()),
				instant(record.closedAtMillis()), record.abuseLimit(), silence(record.silenceBeforeClose()), unfinished,
				record.socketReleasedByStarter(), pings(record.pings(), record.observed()),
				new LastGoAways(goAway(record.lastGoAwaySent()), goAway(record.lastGoAwayReceived())),
				observer(record));
	}

	private static String observer(ConnectionSnapshot record) {
		if (record.observerOffReason() != null) {
			return "off: " + record.observerOffReason();
		}
		return record.observed() ? "on" : "unavailable";
	}

	private static @Nullable GoAwayDescriptor goAway(@Nullable GoAway goAway) {
		if (goAway == null) {
			return null;
		}
		return new GoAwayDescriptor(goAway.errorName(), goAway.debugData(), goAway.reasonTag(),
				instant(goAway.atMillis()));
	}

	private static String peer(ConnectionSnapshot record, boolean showPeers) {
		return showPeers ? String.valueOf(record.remote()) : MASK;
	}

	private static @Nullable SilenceDescriptor silence(@Nullable SilenceBeforeClose silence) {
		if (silence == null) {
			return null;
		}
		return new SilenceDescriptor(silence.duration().toMillis(), silence.afterWrite(), silence.withCalls());
	}

	private static @Nullable String instant(@Nullable Long epochMillis) {
		return (epochMillis != null) ? Instant.ofEpochMilli(epochMillis).toString() : null;
	}

	private static @Nullable String tag(@Nullable CloseReason reason) {
		return (reason != null) ? reason.tag() : null;
	}

}
