package dev.grpckeepalive.config;

import java.net.InetAddress;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;

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

		/** Whether to observe PING and GOAWAY frames on every connection, for ping counts, round-trip times and close reasons. */
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

		/** When to show the remote addresses of connections; masked otherwise. */
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

		/** How long a keepalive timeout or a too_many_pings GOAWAY keeps a channel DOWN. */
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

		/** Whether to start the gRPC server when at least one service bean exists. */
		private boolean enabled = true;

		/** Network address to bind to. All interfaces when not set. */
		private @Nullable InetAddress address;

		/** Port to listen on. 0 picks a free port, published as 'local.grpc.port'. */
		private int port = 9090;

		/** KEEPALIVE_TIME: idle time after which the server sends a keepalive PING. grpc-java raises values under 10s to 10s. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration time = Duration.ofHours(2);

		/** KEEPALIVE_TIMEOUT: how long the server waits for the PING ACK before closing the connection. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration timeout = Duration.ofSeconds(20);

		/** PERMIT_KEEPALIVE_TIME: shortest interval between client PINGs the server tolerates before GOAWAY too_many_pings. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration permitTime = Duration.ofMinutes(5);

		/** PERMIT_KEEPALIVE_WITHOUT_CALLS: whether clients may send keepalive PINGs on connections without calls. */
		private boolean permitWithoutCalls;

		/** MAX_CONNECTION_IDLE: close a connection with no calls for this long (GOAWAY max_idle). Infinite when not set. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionIdle;

		/** MAX_CONNECTION_AGE: close any connection after this age, +/-10% jitter (GOAWAY max_age). Infinite when not set. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionAge;

		/** MAX_CONNECTION_AGE_GRACE: time calls get to finish after max-connection-age before being cancelled. Infinite when not set. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration maxConnectionAgeGrace;

		/** Time in-flight calls get to finish on shutdown before they are cancelled. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration shutdownGrace = Duration.ofSeconds(30);

		/** Time a new connection gets to complete its TLS and HTTP/2 handshake (client preface and SETTINGS) before the server closes it. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration handshakeTimeout = Duration.ofSeconds(120);

		/** TLS for the server. Plaintext when no bundle is set. */
		private final ServerSsl ssl = new ServerSsl();

		public ServerSsl getSsl() {
			return this.ssl;
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

	/** TLS of the server, from a Spring Boot SSL bundle. */
	public static class ServerSsl {

		/** Name of the SSL bundle (spring.ssl.bundle.*) with the server's key and certificate. Plaintext when not set. */
		private @Nullable String bundle;

		/** Whether clients must present a certificate the bundle's trust store trusts (mutual TLS). */
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

	/** The client side: defaults shared by every channel, and the named channels. */
	public static class Client {

		/** Keepalive settings every channel inherits unless it overrides them. */
		private final ChannelDefaults defaults = new ChannelDefaults();

		/** Named channels; each becomes a ManagedChannel bean qualified by its name. */
		private final Map<String, Channel> channels = new LinkedHashMap<>();

		public ChannelDefaults getDefaults() {
			return this.defaults;
		}

		public Map<String, Channel> getChannels() {
			return this.channels;
		}

	}

	/** Client keepalive settings that every channel inherits. */
	public static class ChannelDefaults {

		/** KEEPALIVE_TIME: idle time after which the channel sends a keepalive PING. Disabled when not set; grpc-java raises values under 10s to 10s. */
		@DurationUnit(ChronoUnit.MILLIS)
		private @Nullable Duration time;

		/** KEEPALIVE_TIMEOUT: how long the channel waits for the PING ACK before failing the connection with UNAVAILABLE. */
		@DurationUnit(ChronoUnit.MILLIS)
		private Duration timeout = Duration.ofSeconds(20);

		/** KEEPALIVE_WITHOUT_CALLS: whether to send keepalive PINGs on a connection without calls. Needs the server's permit-without-calls. */
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
