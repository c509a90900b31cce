package dev.grpckeepalive.actuate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonInclude.Include;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.actuate.ConnectionViews.SettingDescriptor;
import dev.grpckeepalive.advisor.KeepAliveAdvisor;
import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.GrpcKeepAliveProperties.PeerVisibility;
import dev.grpckeepalive.config.ServerKeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionQuery;
import dev.grpckeepalive.connection.ConnectionSnapshot;
import dev.grpckeepalive.connection.ConnectionTrackerView;
import dev.grpckeepalive.connection.DrainResult;
import dev.grpckeepalive.operate.ConnectionOperations;
import dev.grpckeepalive.operate.InvalidRebalanceRequestException;
import dev.grpckeepalive.operate.RebalancePlan;
import dev.grpckeepalive.operate.RebalanceProgress;
import dev.grpckeepalive.operate.RebalanceRequest;
import dev.grpckeepalive.operate.RebalanceRunningException;
import dev.grpckeepalive.server.ObservedGrpcServer;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.Show;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

/**
 * The {@code grpckeepalive} endpoint: requested and effective settings, connections, PINGs
 * and GOAWAYs of the server and of every channel, and each open server connection. Remote
 * addresses are masked unless {@code grpc.keepalive.actuator.show-peers} allows them.
 *
 * <p>Read-only by default ({@link Access#READ_ONLY}): its write operations, an operator's
 * drain of one server connection and rebalance ({@link ConnectionOperations}), exist only
 * where the application grants {@code management.endpoint.grpckeepalive.access=unrestricted}.
 *
 * <p>The operations answer descriptor records (here, in {@link ConnectionViews} and
 * {@link AdviceViews}) that Jackson writes as docs/actuator.md documents the JSON: the order of a
 * record's components is the order of its keys. They are package-private: their contract is
 * the JSON, not a Java API.
 */
@Endpoint(id = "grpckeepalive", defaultAccess = Access.READ_ONLY)
public class GrpcKeepAliveEndpoint {

	private static final String CONNECTIONS = "connections";

	private static final String ADVICE = "advice";

	private static final String REBALANCE = "rebalance";

	/** HTTP's status for a request that conflicts with the state: a rebalance runs, or drains are impossible. */
	private static final int STATUS_CONFLICT = 409;

	private final @Nullable ObservedGrpcServer server;

	private final List<TrackedChannels> channels;

	private final Show showPeers;

	private final @Nullable KeepAliveAdvisor advisor;

	private final @Nullable ConnectionOperations operations;

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
		this(server, channels, showPeers, advisor, null);
	}

	/**
	 * The endpoint, with write operations.
	 * @param server the server, if any
	 * @param channels the channels
	 * @param showPeers when remote addresses are shown
	 * @param advisor the keepalive advisor, or {@code null} when it is off
	 * @param operations the operator's actions on the server's connections, or {@code null}
	 * without a server
	 */
	public GrpcKeepAliveEndpoint(@Nullable ObservedGrpcServer server, List<TrackedChannels> channels,
			PeerVisibility showPeers, @Nullable KeepAliveAdvisor advisor, @Nullable ConnectionOperations operations) {
		this.server = server;
		this.channels = List.copyOf(channels);
		this.showPeers = Show.valueOf(showPeers.name());
		this.advisor = advisor;
		this.operations = operations;
	}

	/**
	 * The summary: {@code server} ({@code null} when there is none), {@code channels} by name,
	 * and {@code advice}, absent when the advisor is off.
	 */
	record SummaryDescriptor(@Nullable ServerDescriptor server, Map<String, ChannelDescriptor> channels,
			@JsonInclude(Include.NON_NULL) AdviceViews.@Nullable AdviceSummaryDescriptor advice) {
	}

	record ServerDescriptor(int port, boolean running, ServerSettingsDescriptor settings,
			ConnectionViews.ConnectionsDescriptor connections, int activeCalls, ConnectionViews.PingsDescriptor pings,
			ConnectionViews.GoAwaysDescriptor goaways) {
	}

	record ServerSettingsDescriptor(SettingDescriptor time, SettingDescriptor timeout, SettingDescriptor permitTime,
			boolean permitWithoutCalls, SettingDescriptor maxConnectionIdle, SettingDescriptor maxConnectionAge,
			SettingDescriptor maxConnectionAgeGrace, ConnectionViews.LimitsDescriptor limits) {
	}

	record ChannelDescriptor(String target, String state, ChannelSettingsDescriptor settings, int activeCalls,
			ConnectionViews.PingsDescriptor pings, ConnectionViews.GoAwaysDescriptor goaways,
			ConnectionViews.ConnectionsDescriptor connections) {
	}

	record ChannelSettingsDescriptor(SettingDescriptor time, SettingDescriptor timeout, boolean withoutCalls) {
	}

	/** {@code GET /actuator/grpckeepalive}: the summary of the server and every channel. */
	@ReadOperation
	public SummaryDescriptor summary(SecurityContext securityContext) {
		boolean peers = showPeers(securityContext);
		Map<String, ChannelDescriptor> channelViews = new LinkedHashMap<>();
		trackedChannels().forEach((name, channel) -> channelViews.put(name, channel(channel, peers)));
		return new SummaryDescriptor((this.server != null) ? server(this.server, peers) : null, channelViews,
				(this.advisor != null) ? AdviceViews.summary(this.advisor) : null);
	}

	/**
	 * {@code GET /actuator/grpckeepalive/connections}: a page of the open server connections,
	 * oldest first (see {@link ConnectionListRequest} for the query parameters, each optional,
	 * and docs/actuator.md); {@code 400} naming a parameter that is wrong.
	 * {@code GET /actuator/grpckeepalive/advice}: the keepalive advisor's findings, newest first;
	 * it takes no parameters.
	 * @return the list, a {@code 400} answer, or {@code null} (404) for another section
	 */
	@ReadOperation
	public @Nullable Object connections(@Selector String section, SecurityContext securityContext,
			@Nullable String limit, @Nullable String after, @Nullable String state, @Nullable String remote,
			@Nullable String userAgent, @Nullable String minAge, @Nullable String minIdle) {
		if (ADVICE.equals(section)) {
			return (this.advisor != null) ? AdviceViews.findings(this.advisor) : null;
		}
		if (!CONNECTIONS.equals(section)) {
			return null;
		}
		boolean peers = showPeers(securityContext);
		ConnectionQuery query;
		try {
			query = ConnectionListRequest.query(limit, after, state, remote, userAgent, minAge, minIdle, peers);
		}
		catch (ConnectionListRequest.BadParameter ex) {
			return new WebEndpointResponse<>(ex.body(), WebEndpointResponse.STATUS_BAD_REQUEST);
		}
		if (this.server == null) {
			return List.of();
		}
		return views(this.server.getConnections().openConnections(query), peers);
	}

	/**
	 * As {@link #connections(String, SecurityContext, String, String, String, String, String, String, String)}
	 * without query parameters: the advice, or the first page of connections.
	 */
	public @Nullable Object connections(String section, SecurityContext securityContext) {
		return connections(section, securityContext, null, null, null, null, null, null, null);
	}

	/** {@code GET /actuator/grpckeepalive/connections/{id}}: one open or recently closed connection; 404 otherwise. */
	@ReadOperation
	public ConnectionViews.@Nullable ConnectionDescriptor connection(@Selector String section, @Selector String id,
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

	/**
	 * {@code DELETE /actuator/grpckeepalive/connections/{id}}: drains one open server
	 * connection (GOAWAY {@code drained}, the close after its calls or the grace); 404 for
	 * an id that is not an open server connection.
	 */
	@DeleteOperation
	public WebEndpointResponse<Object> drain(@Selector String section, @Selector String id) {
		ConnectionOperations operations = this.operations;
		if (!CONNECTIONS.equals(section) || operations == null || this.server == null) {
			return new WebEndpointResponse<>(OperationViews.error("No gRPC server connections here to drain"),
					WebEndpointResponse.STATUS_NOT_FOUND);
		}
		ConnectionSnapshot before = this.server.getConnections().find(id).orElse(null);
		DrainResult result = operations.drain(id);
		return switch (result) {
			case DRAINING -> new WebEndpointResponse<>(OperationViews.draining(id, before, operations.grace()));
			case ALREADY_DRAINING ->
				new WebEndpointResponse<>(OperationViews.alreadyDraining(id, before, operations.grace()));
			case NOT_DRAINABLE -> new WebEndpointResponse<>(OperationViews.error("Connection " + id
					+ " cannot be drained without the frame observer: set grpc.keepalive.frames.enabled=true"),
					STATUS_CONFLICT);
			case NOT_OPEN -> new WebEndpointResponse<>(OperationViews.error("No open server connection " + id
					+ ((id.startsWith("c-")) ? ": a channel's connections are not drained, the server's are" : "")),
					WebEndpointResponse.STATUS_NOT_FOUND);
		};
	}

	/**
	 * {@code POST /actuator/grpckeepalive/rebalance} with {@code {"keep": N}} or
	 * {@code {"shed": 0.25}}, optionally {@code "over": "30s"}: drains server connections,
	 * oldest first, spread over the period; answers what it will drain. 400 for a bad body
	 * (naming the field and the fix), 409 while another rebalance runs.
	 */
	@WriteOperation
	public WebEndpointResponse<Object> rebalance(@Selector String section, @Nullable String keep,
			@Nullable String shed, @Nullable String over) {
		ConnectionOperations operations = this.operations;
		if (!REBALANCE.equals(section) || operations == null) {
			return new WebEndpointResponse<>(OperationViews.error("No gRPC server here to rebalance"),
					WebEndpointResponse.STATUS_NOT_FOUND);
		}
		try {
			RebalancePlan plan = operations.rebalance(RebalanceRequest.parse(keep, shed, over));
			return new WebEndpointResponse<>(OperationViews.rebalance(plan, operations.grace()));
		}
		catch (InvalidRebalanceRequestException ex) {
			return new WebEndpointResponse<>(OperationViews.invalid(ex), WebEndpointResponse.STATUS_BAD_REQUEST);
		}
		catch (RebalanceRunningException ex) {
			return new WebEndpointResponse<>(OperationViews.running(ex.getMessage()
					+ "; wait for it, or cancel it with DELETE /actuator/grpckeepalive/rebalance", ex.getRunning()),
					STATUS_CONFLICT);
		}
		catch (IllegalStateException ex) {
			return new WebEndpointResponse<>(OperationViews.error(String.valueOf(ex.getMessage())), STATUS_CONFLICT);
		}
	}

	/**
	 * {@code DELETE /actuator/grpckeepalive/rebalance}: cancels the rebalance that runs (what
	 * it drained stays drained); 404 when none runs.
	 */
	@DeleteOperation
	public WebEndpointResponse<Object> cancelRebalance(@Selector String section) {
		ConnectionOperations operations = this.operations;
		RebalanceProgress cancelled = (REBALANCE.equals(section) && operations != null)
				? operations.cancel().orElse(null) : null;
		if (cancelled == null) {
			return new WebEndpointResponse<>(OperationViews.error("No rebalance runs"),
					WebEndpointResponse.STATUS_NOT_FOUND);
		}
		return new WebEndpointResponse<>(OperationViews.progress(cancelled));
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

	private ServerDescriptor server(ObservedGrpcServer server, boolean peers) {
		ConnectionTrackerView tracker = server.getConnections();
		ServerKeepAliveSettings settings = server.getSettings();
		ServerSettingsDescriptor settingViews = new ServerSettingsDescriptor(ConnectionViews.setting(settings.time()),
				ConnectionViews.setting(settings.timeout()), ConnectionViews.setting(settings.permitTime()),
				settings.permitWithoutCalls(), ConnectionViews.setting(settings.maxConnectionIdle()),
				ConnectionViews.setting(settings.maxConnectionAge()),
				ConnectionViews.setting(settings.maxConnectionAgeGrace()), ConnectionViews.limits(settings.limits()));
		ConnectionViews.ConnectionsDescriptor connections = new ConnectionViews.ConnectionsDescriptor(
				tracker.activeConnections(), tracker.openedConnections(), ConnectionViews.closed(tracker),
				tracker.refusedConnections(), null, ConnectionViews.recentlyClosed(tracker, peers));
		return new ServerDescriptor(server.getPort(), server.isRunning(), settingViews, connections,
				tracker.activeCalls(), ConnectionViews.pings(tracker.pings(), tracker.isFramesObserved()),
				ConnectionViews.goAways(tracker));
	}

	private ChannelDescriptor channel(TrackedChannel channel, boolean peers) {
		ChannelKeepAliveSettings settings = channel.settings();
		ConnectionTrackerView tracker = channel.connections();
		// a channel Spring Boot created (companion mode) is known by its connections only
		String state = (channel.channel() != null) ? channel.channel().getState(false).name() : "UNKNOWN";
		// grpc-java doubles a channel's keepalive time after GOAWAY too_many_pings
		ChannelSettingsDescriptor settingViews = new ChannelSettingsDescriptor(
				ConnectionViews.setting(settings.time().backedOff(tracker.keepAliveBackoffs())),
				ConnectionViews.setting(settings.timeout()), settings.withoutCalls());
		ConnectionViews.ConnectionsDescriptor connections = new ConnectionViews.ConnectionsDescriptor(
				tracker.activeConnections(), tracker.openedConnections(), ConnectionViews.closed(tracker), null,
				openConnections(tracker, peers), ConnectionViews.recentlyClosed(tracker, peers));
		return new ChannelDescriptor(settings.target(), state, settingViews, tracker.activeCalls(),
				ConnectionViews.pings(tracker.pings(), tracker.isFramesObserved()), ConnectionViews.goAways(tracker),
				connections);
	}

	private static List<ConnectionViews.ConnectionDescriptor> openConnections(ConnectionTrackerView tracker,
			boolean peers) {
		return views(tracker.openConnections(), peers);
	}

	private static List<ConnectionViews.ConnectionDescriptor> views(List<ConnectionSnapshot> connections,
			boolean peers) {
		List<ConnectionViews.ConnectionDescriptor> views = new ArrayList<>(connections.size());
		for (ConnectionSnapshot record : connections) {
			views.add(ConnectionViews.connection(record, peers));
		}
		return views;
	}

}
