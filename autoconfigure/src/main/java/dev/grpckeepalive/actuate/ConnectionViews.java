package dev.grpckeepalive.actuate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.DurationFormat;
import dev.grpckeepalive.config.DurationSetting;
import dev.grpckeepalive.config.LimitSetting;
import dev.grpckeepalive.config.ServerLimitSettings;
import dev.grpckeepalive.connection.CloseReason;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.connection.SilenceBeforeClose;
import dev.grpckeepalive.connection.GoAway;
import dev.grpckeepalive.connection.PingStatistics;

/**
 * Turns trackers and records into the JSON shapes of the endpoint. Plain maps keep the
 * shape explicit and independent of the JSON library.
 */
final class ConnectionViews {

	static final String MASK = "******";

	/** The summary lists this many recently closed connections; all of them stay reachable by id. */
	static final int RECENTLY_CLOSED_SHOWN = 20;

	private ConnectionViews() {
	}

	static Map<String, Object> setting(DurationSetting setting) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("requested", text(setting.requested()));
		view.put("effective", text(setting.effective()));
		if (setting.adjustment() != null) {
			view.put("adjustment", setting.adjustment());
		}
		return view;
	}

	/** The server's abuse limits, each as requested and effective; {@code "off"} for a limit turned off. */
	static Map<String, Object> limits(ServerLimitSettings limits) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("maxRstFrames", setting(limits.maxRstFrames()));
		view.put("rstFramesWindow", setting(limits.rstFramesWindow()));
		view.put("maxConcurrentCallsPerConnection", setting(limits.maxConcurrentCallsPerConnection()));
		view.put("maxInboundMetadataSize", setting(limits.maxInboundMetadataSize()));
		view.put("maxConnections", setting(limits.maxConnections()));
		view.put("floodWindow", setting(limits.floodWindow()));
		view.put("maxUnsolicitedPingAcks", setting(limits.maxUnsolicitedPingAcks()));
		view.put("maxSettingsFrames", setting(limits.maxSettingsFrames()));
		view.put("maxConsecutiveEmptyFrames", setting(limits.maxConsecutiveEmptyFrames()));
		view.put("maxWindowUpdateFrames", setting(limits.maxWindowUpdateFrames()));
		view.put("windowUpdateRatio", setting(limits.windowUpdateRatio()));
		view.put("maxPrematureResets", setting(limits.maxPrematureResets()));
		return view;
	}

	static Map<String, Object> setting(LimitSetting setting) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("requested", (setting.requested() != null) ? setting.requested() : "off");
		view.put("effective", (setting.effective() != null) ? setting.effective() : "off");
		if (setting.adjustment() != null) {
			view.put("adjustment", setting.adjustment());
		}
		return view;
	}

	private static String text(@Nullable Duration duration) {
		return (duration != null) ? DurationFormat.format(duration) : "infinite";
	}

	static Map<String, Object> connections(ConnectionTrackerView tracker) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("active", tracker.activeConnections());
		view.put("opened", tracker.openedConnections());
		Map<String, Long> closed = new LinkedHashMap<>();
		for (CloseReason reason : CloseReason.values()) {
			closed.put(reason.tag(), tracker.closedConnections(reason));
		}
		view.put("closed", closed);
		return view;
	}

	static List<Map<String, Object>> recentlyClosed(ConnectionTrackerView tracker, boolean showPeers) {
		List<ConnectionSnapshot> newestFirst = new ArrayList<>(tracker.recentlyClosed());
		Collections.reverse(newestFirst);
		return newestFirst.stream().limit(RECENTLY_CLOSED_SHOWN).map((record) -> {
			Map<String, Object> view = new LinkedHashMap<>();
			view.put("id", record.id());
			view.put("remote", peer(record, showPeers));
			view.put("closeReason", tag(record.closeReason()));
			view.put("closedAt", instant(record.closedAtMillis()));
			view.put("lifetimeMillis", record.age().toMillis());
			return view;
		}).toList();
	}

	static Map<String, Object> pings(PingStatistics pings, boolean available) {
		return pings(pings.snapshot(), available);
	}

	static Map<String, Object> pings(PingStatistics.Snapshot snapshot, boolean available) {
		Map<String, Object> view = new LinkedHashMap<>();
		if (!available) {
			view.put("available", false);
			return view;
		}
		view.put("sent", snapshot.sent());
		Map<String, Long> byKind = new LinkedHashMap<>();
		snapshot.sentByKind().forEach((kind, count) -> byKind.put(kind.tag(), count));
		view.put("sentByKind", byKind);
		view.put("acked", snapshot.acked());
		view.put("received", snapshot.received());
		view.put("timeouts", snapshot.timeouts());
		PingStatistics.RoundTrip rtt = snapshot.rttMillis();
		view.put("rttMillis", (rtt != null) ? roundTrip(rtt) : null);
		return view;
	}

	private static Map<String, Object> roundTrip(PingStatistics.RoundTrip rtt) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("last", rtt.last());
		view.put("min", rtt.min());
		view.put("mean", rtt.mean());
		view.put("max", rtt.max());
		return view;
	}

	static Map<String, Object> goAways(ConnectionTrackerView tracker) {
		Map<String, Object> view = new LinkedHashMap<>();
		if (!tracker.isFramesObserved()) {
			view.put("available", false);
			return view;
		}
		for (GoAway.Direction direction : GoAway.Direction.values()) {
			view.put(direction.tag(), tracker.goAways(direction));
		}
		return view;
	}

	static Map<String, Object> connection(ConnectionSnapshot record, boolean showPeers) {
		Map<String, Object> view = new LinkedHashMap<>();
		boolean server = record.side() == Side.SERVER;
		view.put("id", record.id());
		view.put("side", record.side().tag());
		view.put("channel", record.channel());
		view.put("remote", peer(record, showPeers));
		view.put("local", String.valueOf(record.local()));
		view.put("openedAt", instant(record.openedAtMillis()));
		view.put("ageMillis", record.age().toMillis());
		// a channel counts calls per channel, not per connection: no per-connection calls or idle time
		view.put("idleMillis", server ? record.idle().toMillis() : null);
		view.put("activeCalls", server ? record.activeCalls() : null);
		view.put("totalCalls", server ? record.totalCalls() : null);
		view.put("state", record.state().tag());
		view.put("closeReason", tag(record.closeReason()));
		view.put("closedAt", instant(record.closedAtMillis()));
		view.put("abuseLimit", record.abuseLimit());
		view.put("silenceBeforeClose", silence(record.silenceBeforeClose()));
		view.put("unfinishedCallsAtClose", server
				? record.unfinishedCallsAtClose().stream().map((age) -> age.toMillis()).toList() : null);
		view.put("socketReleasedByStarter", record.socketReleasedByStarter());
		view.put("pings", pings(record.pings(), record.observed()));
		Map<String, Object> goAways = new LinkedHashMap<>();
		goAways.put("lastSent", goAway(record.lastGoAwaySent()));
		goAways.put("lastReceived", goAway(record.lastGoAwayReceived()));
		view.put("goaways", goAways);
		view.put("observer", observer(record));
		return view;
	}

	private static String observer(ConnectionSnapshot record) {
		if (record.observerOffReason() != null) {
			return "off: " + record.observerOffReason();
		}
		return record.observed() ? "on" : "unavailable";
	}

	private static @Nullable Map<String, Object> goAway(@Nullable GoAway goAway) {
		if (goAway == null) {
			return null;
		}
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("errorCode", goAway.errorName());
		view.put("debugData", goAway.debugData());
		view.put("reason", goAway.reasonTag());
		view.put("at", instant(goAway.atMillis()));
		return view;
	}

	private static String peer(ConnectionSnapshot record, boolean showPeers) {
		return showPeers ? String.valueOf(record.remote()) : MASK;
	}

	private static @Nullable Map<String, Object> silence(@Nullable SilenceBeforeClose silence) {
		if (silence == null) {
			return null;
		}
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("millis", silence.duration().toMillis());
		view.put("afterWrite", silence.afterWrite());
		view.put("withCalls", silence.withCalls());
		return view;
	}

	private static @Nullable String instant(@Nullable Long epochMillis) {
		return (epochMillis != null) ? Instant.ofEpochMilli(epochMillis).toString() : null;
	}

	private static @Nullable String tag(@Nullable CloseReason reason) {
		return (reason != null) ? reason.tag() : null;
	}

}
