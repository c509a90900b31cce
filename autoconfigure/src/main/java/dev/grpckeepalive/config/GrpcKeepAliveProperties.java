package dev.grpckeepalive.config;

import java.net.InetAddress;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;
import org.springframework.util.unit.DataSize;

/**
 * Keepalive and connection-management settings for the gRPC server and channels, bound
 * from {@code grpc.keepalive.*}. A bare number means milliseconds, as in the gRPC
 * keepalive guide. An unset value means the gRPC default.
 *
 * <p>Unknown keys below {@code grpc.keepalive} fail startup, so that a misspelt option
 * cannot silently leave keepalive at its default.
 */
@ConfigurationProperties(prefix = GrpcKeepAliveProperties.PREFIX, ignoreUnknownFields = false)
public class GrpcKeepAliveProperties {

	/** The common prefix of every property of this starter. */
	public static final String PREFIX = "grpc.keepalive";

	private final Server server = new Server();

	private final Client client = new Client();

	private final Frames frames = new Frames();

	private final Actuator actuator = new Actuator();

	private final Health health = new Health();

	private final Advisor advisor = new Advisor();

	public Server getServer() {
		return this.server;
	}

	public Client getClient() {
		return this.client;
	}

	public Frames getFrames() {
		return this.frames;
	}

	public Actuator getActuator() {
		return this.actuator;
	}

	public Health getHealth() {
		return this.health;
	}

	public Advisor getAdvisor() {
		return this.advisor;
	}

	/** The keepalive advisor: findings with their evidence and the fix, under /actuator/grpckeepalive/advice. */
	public static class Advisor {

		/** Whether to diagnose keepalive problems from what the connections show. */
		private boolean enabled = true;

		/** How long a finding's evidence counts: a finding whose last evidence is older is dropped. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration window = Duration.ofHours(1);

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getWindow() {
			return this.window;
		}

		public void setWindow(Duration window) {
			this.window = window;
		}

	}

	/** The passive HTTP/2 frame observer. */
	public static class Frames {

		/**
		 * Whether to put the passive HTTP/2 frame observer on every server and channel connection. It yields PING
		 * counts and round-trip times, keepalive timeouts, GOAWAY counts and the close reasons keepalive_timeout,
		 * too_many_pings, peer_goaway and error, and after a keepalive timeout it releases the socket (SO_LINGER 0, and
		 * a forced close 1s after the GOAWAY). With false all of this is off: close reasons are inferred, health does
		 * not go DOWN for keepalive timeouts or too_many_pings, connections that never complete the HTTP/2 handshake
		 * are not tracked, a peer that stops reading can keep the socket held after a keepalive timeout, and grpc-java
		 * runs on its own event loops.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/** The 'grpckeepalive' Actuator endpoint. */
	public static class Actuator {

		/** When the grpckeepalive endpoint shows the remote addresses of connections; masked otherwise. */
		private PeerVisibility showPeers = PeerVisibility.NEVER;

		public PeerVisibility getShowPeers() {
			return this.showPeers;
		}

		public void setShowPeers(PeerVisibility showPeers) {
			this.showPeers = showPeers;
		}

	}

	/** When remote addresses appear in the endpoint. */
	public enum PeerVisibility {

		/** Never show them. */
		NEVER,

		/** Show them to authenticated users. */
		WHEN_AUTHORIZED,

		/** Always show them. */
		ALWAYS

	}

	/** The 'grpcKeepalive' health contributor. */
	public static class Health {

		/**
		 * How long a keepalive timeout or a too_many_pings GOAWAY keeps a channel's health DOWN, and the server's
		 * keepaliveTimeoutWithinWindow and tooManyPingsWithinWindow details true. Both events are seen by the frame
		 * observer only (frames.enabled).
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration window = Duration.ofMinutes(5);

		public Duration getWindow() {
			return this.window;
		}

		public void setWindow(Duration window) {
			this.window = window;
		}

	}

	/** The gRPC server: where it listens, its keepalive PINGs and the limits it enforces. */
	public static class Server {

		/**
		 * Whether to start this starter's gRPC server when at least one BindableService or ServerServiceDefinition
		 * bean exists; in companion mode, whether to manage Spring Boot's own gRPC server (keepalive options,
		 * abuse limits, tracking), which false leaves as Spring Boot configures it.
		 */
		private boolean enabled = true;

		/**
		 * Network address to bind to. All interfaces when not set. Not applied to Spring Boot's own gRPC server
		 * (companion mode).
		 */
		private @Nullable InetAddress address;

		/**
		 * Port to listen on. 0 picks a free port, published as 'local.grpc.port'. Not applied to Spring Boot's own gRPC
		 * server (companion mode).
		 */
		private int port = 9090;

		/**
		 * KEEPALIVE_TIME: idle time after which the server sends a keepalive PING. grpc-java raises values under 10s to
		 * 10s and treats 1000d or more as off.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration time = Duration.ofHours(2);

		/**
		 * KEEPALIVE_TIMEOUT: how long the server waits for the PING ACK before it gives up on the connection: grpc-java
		 * cancels the connection's calls and sends GOAWAY, and the frame observer makes sure the socket is released
		 * (frames.enabled). grpc-java raises values under 10ms to 10ms.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration timeout = Duration.ofSeconds(20);

		/**
		 * PERMIT_KEEPALIVE_TIME: shortest interval between client PINGs the server tolerates. PINGs closer together are
		 * strikes; the third closes the connection with GOAWAY too_many_pings. 0 accepts any rate; grpc-java treats
		 * values above 2h as 2h.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration permitTime = Duration.ofMinutes(5);

		/**
		 * PERMIT_KEEPALIVE_WITHOUT_CALLS: whether clients may send keepalive PINGs on connections without calls. When
		 * false, such PINGs more often than every 2h are strikes, as under permit-time.
		 */
		private boolean permitWithoutCalls;

		/**
		 * MAX_CONNECTION_IDLE: closes a connection that has had no calls for this long, with GOAWAY max_idle; the
		 * client reconnects for its next call. Infinite when not set; grpc-java raises values under 1s to 1s and treats
		 * 1000d or more as infinite.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionIdle;

		/**
		 * MAX_CONNECTION_AGE: age at which the server sends a connection GOAWAY max_age, +/-10% jitter per
		 * connection: new calls go to a new connection, calls in flight get max-connection-age-grace. Infinite when not
		 * set; grpc-java raises values under 1s to 1s and treats 1000d or more as infinite.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionAge;

		/**
		 * MAX_CONNECTION_AGE_GRACE: time calls in flight get to finish after max-connection-age. Then the connection is
		 * closed: calls still running fail with UNAVAILABLE on the client. Infinite when not set; requires
		 * max-connection-age.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionAgeGrace;

		/**
		 * Time in-flight calls get to finish when the application shuts down. Calls still running after it are closed
		 * with UNAVAILABLE ('Server shutting down: ...'). Not applied to Spring Boot's own gRPC server (companion mode).
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration shutdownGrace = Duration.ofSeconds(30);

		/**
		 * Time a new connection gets to complete its TLS and HTTP/2 handshake (client preface and SETTINGS) before the
		 * server closes it; the default is grpc-java's. Not applied to Spring Boot's own gRPC server (companion mode).
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration handshakeTimeout = Duration.ofSeconds(120);

		/** TLS for the server. Plaintext when no bundle is set. */
		private final ServerSsl ssl = new ServerSsl();

		/** HTTP/2 abuse limits, on by default. */
		private final Limits limits = new Limits();

		/** The grpc.health.v1 service on this starter's own server. */
		private final HealthService health = new HealthService();

		/** gRPC server reflection (grpc.reflection.v1) on this starter's own server. */
		private final Reflection reflection = new Reflection();

		/** Micrometer Observations of the calls this starter's own server serves. */
		private final Observation observation = new Observation();

		public ServerSsl getSsl() {
			return this.ssl;
		}

		public HealthService getHealth() {
			return this.health;
		}

		public Reflection getReflection() {
			return this.reflection;
		}

		public Observation getObservation() {
			return this.observation;
		}

		public Limits getLimits() {
			return this.limits;
		}

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public @Nullable InetAddress getAddress() {
			return this.address;
		}

		public void setAddress(@Nullable InetAddress address) {
			this.address = address;
		}

		public int getPort() {
			return this.port;
		}

		public void setPort(int port) {
			this.port = port;
		}

		public Duration getTime() {
			return this.time;
		}

		public void setTime(Duration time) {
			this.time = time;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

		public Duration getPermitTime() {
			return this.permitTime;
		}

		public void setPermitTime(Duration permitTime) {
			this.permitTime = permitTime;
		}

		public boolean isPermitWithoutCalls() {
			return this.permitWithoutCalls;
		}

		public void setPermitWithoutCalls(boolean permitWithoutCalls) {
			this.permitWithoutCalls = permitWithoutCalls;
		}

		public @Nullable Duration getMaxConnectionIdle() {
			return this.maxConnectionIdle;
		}

		public void setMaxConnectionIdle(@Nullable Duration maxConnectionIdle) {
			this.maxConnectionIdle = maxConnectionIdle;
		}

		public @Nullable Duration getMaxConnectionAge() {
			return this.maxConnectionAge;
		}

		public void setMaxConnectionAge(@Nullable Duration maxConnectionAge) {
			this.maxConnectionAge = maxConnectionAge;
		}

		public @Nullable Duration getMaxConnectionAgeGrace() {
			return this.maxConnectionAgeGrace;
		}

		public void setMaxConnectionAgeGrace(@Nullable Duration maxConnectionAgeGrace) {
			this.maxConnectionAgeGrace = maxConnectionAgeGrace;
		}

		public Duration getShutdownGrace() {
			return this.shutdownGrace;
		}

		public void setShutdownGrace(Duration shutdownGrace) {
			this.shutdownGrace = shutdownGrace;
		}

		public Duration getHandshakeTimeout() {
			return this.handshakeTimeout;
		}

		public void setHandshakeTimeout(Duration handshakeTimeout) {
			this.handshakeTimeout = handshakeTimeout;
		}

	}

	/**
	 * What one client connection may demand of the server before grpc-java refuses or closes
	 * it. Each limit is on by default, with a value chosen from measurement (docs/security.md);
	 * -1 turns it off.
	 */
	public static class Limits {

		/** Most RST_STREAM frames a connection may send, or provoke with bad frames, per rst-frames-window before grpc-java closes it with GOAWAY ENHANCE_YOUR_CALM 'too_many_rststreams': the ceiling for every reset, max-premature-resets the line for rapid ones. -1 for no limit. */
		private int maxRstFrames = 10_000;

		/** The window max-rst-frames counts in; a whole number of seconds. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration rstFramesWindow = Duration.ofSeconds(1);

		/** Most calls one connection may have in flight, advertised as SETTINGS_MAX_CONCURRENT_STREAMS: grpc-java clients queue further calls until one ends, others get their streams refused. -1 for no limit. */
		private int maxConcurrentCallsPerConnection = 100;

		/** Largest metadata (request headers) a call may carry, advertised as SETTINGS_MAX_HEADER_LIST_SIZE; calls with more fail (grpc-java clients see INTERNAL). -1 for no limit. */
		private DataSize maxInboundMetadataSize = DataSize.ofKilobytes(8);

		/** Most connections the server keeps open at once; connections over it are reset at accept, before any handshake. Needs the frame observer's transport (frames.enabled). -1 for no limit. */
		private int maxConnections = 10_000;

		/** The window the per-window frame-flood limits (max-unsolicited-ping-acks, max-settings-frames, max-premature-resets) count in. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration floodWindow = Duration.ofSeconds(10);

		/** Most PING ACKs per flood-window a connection may send for PINGs the server never sent; one more closes it (close reason abuse). Needs the frame observer. -1 for no limit. */
		private int maxUnsolicitedPingAcks = 10;

		/** Most SETTINGS frames (not ACKs) per flood-window a connection may send; one more closes it (close reason abuse). Needs the frame observer. -1 for no limit. */
		private int maxSettingsFrames = 100;

		/** Most DATA, HEADERS and CONTINUATION frames without payload and without END_STREAM a connection may send in a row (a frame with payload ends the run); one more closes it (close reason abuse). Needs the frame observer. -1 for no limit. */
		private int maxConsecutiveEmptyFrames = 10;

		/** Most WINDOW_UPDATE frames a connection may send over its life beyond those its traffic earns (window-update-ratio per stream it opens and per DATA or SETTINGS frame the server sends); one more closes it (close reason abuse). Needs the frame observer. -1 for no limit. */
		private int maxWindowUpdateFrames = 100;

		/** WINDOW_UPDATE frames a connection earns for each stream it opens and each DATA or SETTINGS frame the server sends it, on top of max-window-update-frames. 0 or more. */
		private int windowUpdateRatio = 10;

		/** Most premature resets per flood-window a connection may send: RST_STREAM for the stream it opened last, before the server answered or ended it and less than 1ms after it opened, and streams refused over max-concurrent-calls-per-connection; one more closes it (close reason abuse). Needs the frame observer. -1 for no limit. */
		private int maxPrematureResets = 1000;

		/** Whether to condense what grpc-java logs per frame or per connection of a misbehaving client (unsolicited PING ACKs, refused streams, HTTP/2 protocol errors) to one line per minute and kind, with a count. */
		private boolean condenseGrpcLogs = true;

		public int getMaxRstFrames() {
			return this.maxRstFrames;
		}

		public void setMaxRstFrames(int maxRstFrames) {
			this.maxRstFrames = maxRstFrames;
		}

		public Duration getRstFramesWindow() {
			return this.rstFramesWindow;
		}

		public void setRstFramesWindow(Duration rstFramesWindow) {
			this.rstFramesWindow = rstFramesWindow;
		}

		public int getMaxConcurrentCallsPerConnection() {
			return this.maxConcurrentCallsPerConnection;
		}

		public void setMaxConcurrentCallsPerConnection(int maxConcurrentCallsPerConnection) {
			this.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection;
		}

		public DataSize getMaxInboundMetadataSize() {
			return this.maxInboundMetadataSize;
		}

		public void setMaxInboundMetadataSize(DataSize maxInboundMetadataSize) {
			this.maxInboundMetadataSize = maxInboundMetadataSize;
		}

		public int getMaxConnections() {
			return this.maxConnections;
		}

		public void setMaxConnections(int maxConnections) {
			this.maxConnections = maxConnections;
		}

		public Duration getFloodWindow() {
			return this.floodWindow;
		}

		public void setFloodWindow(Duration floodWindow) {
			this.floodWindow = floodWindow;
		}

		public int getMaxUnsolicitedPingAcks() {
			return this.maxUnsolicitedPingAcks;
		}

		public void setMaxUnsolicitedPingAcks(int maxUnsolicitedPingAcks) {
			this.maxUnsolicitedPingAcks = maxUnsolicitedPingAcks;
		}

		public int getMaxSettingsFrames() {
			return this.maxSettingsFrames;
		}

		public void setMaxSettingsFrames(int maxSettingsFrames) {
			this.maxSettingsFrames = maxSettingsFrames;
		}

		public int getMaxConsecutiveEmptyFrames() {
			return this.maxConsecutiveEmptyFrames;
		}

		public void setMaxConsecutiveEmptyFrames(int maxConsecutiveEmptyFrames) {
			this.maxConsecutiveEmptyFrames = maxConsecutiveEmptyFrames;
		}

		public int getMaxWindowUpdateFrames() {
			return this.maxWindowUpdateFrames;
		}

		public void setMaxWindowUpdateFrames(int maxWindowUpdateFrames) {
			this.maxWindowUpdateFrames = maxWindowUpdateFrames;
		}

		public int getWindowUpdateRatio() {
			return this.windowUpdateRatio;
		}

		public void setWindowUpdateRatio(int windowUpdateRatio) {
			this.windowUpdateRatio = windowUpdateRatio;
		}

		public int getMaxPrematureResets() {
			return this.maxPrematureResets;
		}

		public void setMaxPrematureResets(int maxPrematureResets) {
			this.maxPrematureResets = maxPrematureResets;
		}

		public boolean isCondenseGrpcLogs() {
			return this.condenseGrpcLogs;
		}

		public void setCondenseGrpcLogs(boolean condenseGrpcLogs) {
			this.condenseGrpcLogs = condenseGrpcLogs;
		}

	}

	/** TLS of the server, from a Spring Boot SSL bundle. */
	public static class ServerSsl {

		/**
		 * Name of the SSL bundle (spring.ssl.bundle.*) with the server's key and certificate. Plaintext when not set.
		 * Not applied to Spring Boot's own gRPC server (companion mode).
		 */
		private @Nullable String bundle;

		/**
		 * Whether the server asks clients for a certificate, verified against the bundle's trust store: none, optional
		 * (clients without one are accepted) or require (mutual TLS).
		 */
		private ClientAuth clientAuth = ClientAuth.NONE;

		public @Nullable String getBundle() {
			return this.bundle;
		}

		public void setBundle(@Nullable String bundle) {
			this.bundle = bundle;
		}

		public ClientAuth getClientAuth() {
			return this.clientAuth;
		}

		public void setClientAuth(ClientAuth clientAuth) {
			this.clientAuth = clientAuth;
		}

	}

	/** Whether the server asks clients for a certificate. */
	public enum ClientAuth {

		/** Do not ask for a client certificate. */
		NONE,

		/** Ask for a client certificate, accept clients without one. */
		OPTIONAL,

		/** Require a trusted client certificate (mutual TLS). */
		REQUIRE

	}

	/** TLS of one channel, from a Spring Boot SSL bundle. */
	public static class ChannelSsl {

		/** Name of the SSL bundle whose trust store verifies the server, and whose key store, if any, is presented for mutual TLS. Plaintext when not set. */
		private @Nullable String bundle;

		public @Nullable String getBundle() {
			return this.bundle;
		}

		public void setBundle(@Nullable String bundle) {
			this.bundle = bundle;
		}

	}

	/** The grpc.health.v1 service on this starter's own server (standalone mode). */
	public static class HealthService {

		/**
		 * Whether to serve grpc.health.v1 (Check, Watch and List), for Kubernetes' gRPC probes, grpc-health-probe,
		 * Envoy and client-side health checking. It follows the application's readiness and turns NOT_SERVING when the
		 * graceful shutdown begins. Backs off when the application serves grpc.health.v1.Health itself.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/** gRPC server reflection on this starter's own server (standalone mode). */
	public static class Reflection {

		/** Whether to serve gRPC server reflection (grpc.reflection.v1), which grpcurl and other tools read. */
		private boolean enabled = false;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/** Micrometer Observations of calls, when an ObservationRegistry bean exists. */
	public static class Observation {

		/**
		 * Whether to observe each call with Micrometer's gRPC observation interceptor (timers grpc.server or
		 * grpc.client, and traces when a tracer is present) when an ObservationRegistry bean exists.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/** The client side: defaults shared by every channel, and the named channels. */
	public static class Client {

		/** Keepalive settings every channel inherits unless it overrides them. */
		private final ChannelDefaults defaults = new ChannelDefaults();

		/** Named channels; each becomes a ManagedChannel bean qualified by its name. */
		private final Map<String, Channel> channels = new LinkedHashMap<>();

		/** Micrometer Observations of the calls made on this starter's channels. */
		private final Observation observation = new Observation();

		public ChannelDefaults getDefaults() {
			return this.defaults;
		}

		public Observation getObservation() {
			return this.observation;
		}

		public Map<String, Channel> getChannels() {
			return this.channels;
		}

	}

	/** Client keepalive settings that every channel inherits. */
	public static class ChannelDefaults {

		/**
		 * KEEPALIVE_TIME: idle time after which a channel sends a keepalive PING. Disabled when not set; grpc-java
		 * raises values under 10s to 10s and treats 1000d or more as disabled. Keep it at or above the server's
		 * permit-time.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration time;

		/**
		 * KEEPALIVE_TIMEOUT: how long a channel waits for the PING ACK before it closes the connection; calls on it fail
		 * with UNAVAILABLE. grpc-java raises values under 10ms to 10ms.
		 */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration timeout = Duration.ofSeconds(20);

		/**
		 * KEEPALIVE_WITHOUT_CALLS: whether to send keepalive PINGs on a connection without calls. Needs the server's
		 * permit-without-calls, and a time: without one no PING is sent at all.
		 */
		private boolean withoutCalls;

		public @Nullable Duration getTime() {
			return this.time;
		}

		public void setTime(@Nullable Duration time) {
			this.time = time;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

		public boolean isWithoutCalls() {
			return this.withoutCalls;
		}

		public void setWithoutCalls(boolean withoutCalls) {
			this.withoutCalls = withoutCalls;
		}

	}

	/** One named client channel. Unset keepalive values come from 'client.defaults'. */
	public static class Channel {

		/** gRPC target of the channel, such as 'localhost:9090' or 'dns:///orders.internal:443'. Required. */
		private @Nullable String target;

		/** KEEPALIVE_TIME for this channel. Defaults to 'client.defaults.time'. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration time;

		/** KEEPALIVE_TIMEOUT for this channel. Defaults to 'client.defaults.timeout'. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration timeout;

		/** KEEPALIVE_WITHOUT_CALLS for this channel. Defaults to 'client.defaults.without-calls'. */
		private @Nullable Boolean withoutCalls;

		/** TLS for this channel. Plaintext when no bundle is set. */
		private final ChannelSsl ssl = new ChannelSsl();

		public ChannelSsl getSsl() {
			return this.ssl;
		}

		public @Nullable String getTarget() {
			return this.target;
		}

		public void setTarget(@Nullable String target) {
			this.target = target;
		}

		public @Nullable Duration getTime() {
			return this.time;
		}

		public void setTime(@Nullable Duration time) {
			this.time = time;
		}

		public @Nullable Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(@Nullable Duration timeout) {
			this.timeout = timeout;
		}

		public @Nullable Boolean getWithoutCalls() {
			return this.withoutCalls;
		}

		public void setWithoutCalls(@Nullable Boolean withoutCalls) {
			this.withoutCalls = withoutCalls;
		}

	}

}
