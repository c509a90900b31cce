package dev.grpckeepalive.actuate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.PeerVisibility;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;

/**
 * The {@code grpckeepalive} endpoint: requested and effective settings, connections, PINGs
 * and GOAWAYs of the server and of every channel, and each open server connection.
 * Read-only. Remote addresses are masked unless {@code grpc.keepalive.actuator.show-peers}
 * allows them.
 */
@Endpoint(id = "grpckeepalive")
public class GrpcKeepAliveEndpoint {

	private static final String CONNECTIONS = "connections";

	private static final String ADVICE = "advice";

	private final @Nullable ObservedGrpcServer server;

	private final List<TrackedChannels> channels;

	private final Show showPeers;

	private final @Nullable KeepAliveAdvisor advisor;

	public GrpcKeepAliveEndpoint(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels,
			PeerVisibility showPeers) {
		this(server, channels, showPeers, null);
	}

	/**
	 * The endpoint.
	 * @param server the server, if any
	 * @param channels the channels
	 * @param showPeers when remote addresses are shown
	 * @param advisor the keepalive advisor, or {@code null} when it is off
	 */
	public GrpcKeepAliveEndpoint(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels,
			PeerVisibility showPeers, @Nullable KeepAliveAdvisor advisor) {
		this.server = server;
		this.channels = List.copyOf(channels);
		this.showPeers = Show.valueOf(showPeers.name());
		this.advisor = advisor;
	}

	/** {@code GET /actuator/grpckeepalive}: the summary of the server and every channel. */
	@ReadOperation
	public Map<String, Object> summary(SecurityContext securityContext) {
		boolean peers = showPeers(securityContext);
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("server", (this.server != null) ? server(this.server, peers) : null);
		Map<String, Object> channelViews = new LinkedHashMap<>();
		trackedChannels().forEach((name, channel) -> channelViews.put(name, channel(channel, peers)));
		view.put("channels", channelViews);
		if (this.advisor != null) {
			view.put("advice", AdviceViews.summary(this.advisor));
		}
		return view;
	}

	/**
	 * {@code GET /actuator/grpckeepalive/connections}: every open server connection;
	 * {@code GET /actuator/grpckeepalive/advice}: the keepalive advisor's findings, newest first.
	 */
	@ReadOperation
	public @Nullable List<Map<String, Object>> connections(@Selector String section, SecurityContext securityContext) {
		if (ADVICE.equals(section)) {
			return (this.advisor != null) ? AdviceViews.findings(this.advisor) : null;
		}
		if (!CONNECTIONS.equals(section)) {
			return null;
		}
		if (this.server == null) {
			return List.of();
		}
		boolean peers = showPeers(securityContext);
		return this.server.getConnections()
			.openConnections()
			.stream()
			.map((record) -> ConnectionViews.connection(record, peers))
			.toList();
	}

	/** {@code GET /actuator/grpckeepalive/connections/{id}}: one open or recently closed connection; 404 otherwise. */
	@ReadOperation
	public @Nullable Map<String, Object> connection(@Selector String section, @Selector String id,
			SecurityContext securityContext) {
		if (!CONNECTIONS.equals(section)) {
			return null;
		}
		for (ConnectionTrackerView tracker : trackers()) {
			Optional<ConnectionSnapshot> connection = tracker.find(id);
			if (connection.isPresent()) {
				return ConnectionViews.connection(connection.get(), showPeers(securityContext));
			}
		}
		return null;
	}

	private List<ConnectionTrackerView> trackers() {
		List<ConnectionTrackerView> trackers = new ArrayList<>();
		if (this.server != null) {
			trackers.add(this.server.getConnections());
		}
		trackedChannels().values().forEach((channel) -> trackers.add(channel.connections()));
		return trackers;
	}

	private Map<String, TrackedChannel> trackedChannels() {
		return TrackedChannels.all(this.channels);
	}

	private boolean showPeers(SecurityContext securityContext) {
		return this.showPeers.isShown(securityContext, Set.of());
	}

	private Map<String, Object> server(ObservedGrpcServer server, boolean peers) {
		ConnectionTrackerView tracker = server.getConnections();
		ServerKeepAliveSettings settings = server.getSettings();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("port", server.getPort());
		view.put("running", server.isRunning());
		Map<String, Object> settingViews = new LinkedHashMap<>();
		settingViews.put("time", ConnectionViews.setting(settings.time()));
		settingViews.put("timeout", ConnectionViews.setting(settings.timeout()));
		settingViews.put("permitTime", ConnectionViews.setting(settings.permitTime()));
		settingViews.put("permitWithoutCalls", settings.permitWithoutCalls());
		settingViews.put("maxConnectionIdle", ConnectionViews.setting(settings.maxConnectionIdle()));
		settingViews.put("maxConnectionAge", ConnectionViews.setting(settings.maxConnectionAge()));
		settingViews.put("maxConnectionAgeGrace", ConnectionViews.setting(settings.maxConnectionAgeGrace()));
		settingViews.put("limits", ConnectionViews.limits(settings.limits()));
		view.put("settings", settingViews);
		Map<String, Object> connections = ConnectionViews.connections(tracker);
		connections.put("refused", tracker.refusedConnections());
		connections.put("recentlyClosed", ConnectionViews.recentlyClosed(tracker, peers));
		view.put("connections", connections);
		view.put("activeCalls", tracker.activeCalls());
		view.put("pings", ConnectionViews.pings(tracker.pings(), tracker.isFramesObserved()));
		view.put("goaways", ConnectionViews.goAways(tracker));
		return view;
	}

	private Map<String, Object> channel(TrackedChannel channel, boolean peers) {
		ChannelKeepAliveSettings settings = channel.settings();
		ConnectionTrackerView tracker = channel.connections();
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("target", settings.target());
		// a channel Spring Boot created (companion mode) is known by its connections only
		view.put("state", (channel.channel() != null) ? channel.channel().getState(false).name() : "UNKNOWN");
		Map<String, Object> settingViews = new LinkedHashMap<>();
		// grpc-java doubles a channel's keepalive time after GOAWAY too_many_pings
		settingViews.put("time", ConnectionViews.setting(settings.time().backedOff(tracker.keepAliveBackoffs())));
		settingViews.put("timeout", ConnectionViews.setting(settings.timeout()));
		settingViews.put("withoutCalls", settings.withoutCalls());
		view.put("settings", settingViews);
		view.put("activeCalls", tracker.activeCalls());
		view.put("pings", ConnectionViews.pings(tracker.pings(), tracker.isFramesObserved()));
		view.put("goaways", ConnectionViews.goAways(tracker));
		Map<String, Object> connections = ConnectionViews.connections(tracker);
		connections.put("open", tracker.openConnections()
			.stream()
			.map((record) -> ConnectionViews.connection(record, peers))
			.toList());
		connections.put("recentlyClosed", ConnectionViews.recentlyClosed(tracker, peers));
		view.put("connections", connections);
		return view;
	}

}
