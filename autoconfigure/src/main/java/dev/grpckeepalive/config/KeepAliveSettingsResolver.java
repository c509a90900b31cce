package dev.grpckeepalive.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.StringUtils;

/**
 * Validates {@link GrpcKeepAliveProperties} as a whole, merges channel defaults, predicts
 * grpc-java's adjustments and logs one WARN for each value grpc-java will change or ignore,
 * and one INFO naming what is off when the frame observer is switched off. Every warning,
 * violation and {@link DurationSetting} names the property through {@link PropertyNames}, so
 * that a value companion mode read from {@code spring.grpc.*} is reported under the name the
 * user wrote.
 */
final class KeepAliveSettingsResolver {

	private static final Log logger = LogFactory.getLog(KeepAliveSettings.class);

	/**
	 * Logged at startup with {@code grpc.keepalive.frames.enabled=false}: the switch turns off more
	 * than statistics, and the one thing a user would not guess is the socket release.
	 */
	static final String FRAMES_OFF = GrpcKeepAliveProperties.PREFIX + ".frames.enabled=false: no HTTP/2 frame "
			+ "observer on the connections of the gRPC server and channels. Off with it: PING counts, round-trip times "
			+ "and keepalive timeouts; GOAWAY counts; the close reasons keepalive_timeout, too_many_pings, peer_goaway "
			+ "and error (close reasons are inferred); health DOWN after a keepalive timeout or too_many_pings; tracking "
			+ "of connections that never complete the HTTP/2 handshake; and the socket release after a keepalive "
			+ "timeout, so a peer that stops reading can keep the socket and its buffers held (docs/reliability.md, "
			+ "scenario 8)";

	private static final String SERVER = GrpcKeepAliveProperties.PREFIX + ".server.";

	private static final String DEFAULTS = GrpcKeepAliveProperties.PREFIX + ".client.defaults.";

	private static final String LIMITS = SERVER + "limits.";

	private final GrpcKeepAliveProperties properties;

	private final PropertyNames names;

	private final List<ConfigurationViolation> violations = new ArrayList<>();

	private final List<String> warnings = new ArrayList<>();

	KeepAliveSettingsResolver(GrpcKeepAliveProperties properties, PropertyNames names) {
		this.properties = properties;
		this.names = names;
	}

	KeepAliveSettings resolve() {
		ServerKeepAliveSettings server = resolveServer(this.properties.getServer());
		validateChannelDefaults(this.properties.getClient().getDefaults());
		requirePositive(GrpcKeepAliveProperties.PREFIX + ".health.window", this.properties.getHealth().getWindow(),
				"the default of 5m");
		requirePositive(GrpcKeepAliveProperties.PREFIX + ".advisor.window", this.properties.getAdvisor().getWindow(),
				"the default of 1h");
		Map<String, ChannelKeepAliveSettings> channels = new LinkedHashMap<>();
		this.properties.getClient()
			.getChannels()
			.forEach((name, channel) -> channels.put(name, resolveChannel(name, channel)));
		if (server == null || !this.violations.isEmpty()) {
			throw new InvalidKeepAliveConfigurationException(this.violations);
		}
		this.warnings.forEach(logger::warn);
		if (!this.properties.getFrames().isEnabled()) {
			logger.info(FRAMES_OFF);
		}
		return new KeepAliveSettings(server, channels);
	}

	/** The server's settings, or {@code null} when a violation was recorded instead. */
	private @Nullable ServerKeepAliveSettings resolveServer(GrpcKeepAliveProperties.Server server) {
		if (server.getPort() < 0 || server.getPort() > 65535) {
			reject(SERVER + "port", String.valueOf(server.getPort()), "is not a TCP port",
					"Use a port between 1 and 65535, or 0 to pick a free port.");
		}
		requirePositive(SERVER + "time", server.getTime(), "the gRPC default of 2h");
		requirePositive(SERVER + "timeout", server.getTimeout(), "the gRPC default of 20s");
		requireNotNegative(SERVER + "permit-time", server.getPermitTime(),
				"Use 0 to accept pings at any rate, or a duration such as 5m (the gRPC default).");
		requirePositive(SERVER + "max-connection-idle", server.getMaxConnectionIdle(), "no idle limit");
		requirePositive(SERVER + "max-connection-age", server.getMaxConnectionAge(), "no age limit");
		requireNotNegative(SERVER + "max-connection-age-grace", server.getMaxConnectionAgeGrace(),
				"Use 0 to close the connection as soon as max-connection-age is reached (calls still running fail "
						+ "with UNAVAILABLE), or a duration such as 30s.");
		requireNotNegative(SERVER + "shutdown-grace", server.getShutdownGrace(),
				"Use 0 to close in-flight calls (UNAVAILABLE) at once on shutdown, or a duration such as 30s.");
		requirePositive(SERVER + "handshake-timeout", server.getHandshakeTimeout(), "the gRPC default of 120s");
		if (server.getMaxConnectionAgeGrace() != null && server.getMaxConnectionAge() == null) {
			String age = name(SERVER + "max-connection-age");
			reject(SERVER + "max-connection-age-grace", format(server.getMaxConnectionAgeGrace()),
					"has no effect without " + age + ": the grace starts when a connection reaches its maximum age",
					"Set " + age + " as well, or remove " + name(SERVER + "max-connection-age-grace") + ".");
		}
		ServerLimitSettings limits = resolveLimits(server.getLimits());
		if (limits == null || !this.violations.isEmpty()) {
			return null;
		}
		return new ServerKeepAliveSettings(
				adjusted(GrpcJavaLimits.keepAliveTime(name(SERVER + "time"), server.getTime())),
				adjusted(GrpcJavaLimits.keepAliveTimeout(name(SERVER + "timeout"), server.getTimeout())),
				adjusted(GrpcJavaLimits.permitTime(name(SERVER + "permit-time"), server.getPermitTime())),
				server.isPermitWithoutCalls(),
				adjusted(GrpcJavaLimits.maxConnectionIdleOrAge(name(SERVER + "max-connection-idle"),
						server.getMaxConnectionIdle())),
				adjusted(GrpcJavaLimits.maxConnectionIdleOrAge(name(SERVER + "max-connection-age"),
						server.getMaxConnectionAge())),
				adjusted(GrpcJavaLimits.maxConnectionAgeGrace(name(SERVER + "max-connection-age-grace"),
						server.getMaxConnectionAgeGrace())),
				limits);
	}

	/** The server's limits, or {@code null} when a violation was recorded instead. */
	private @Nullable ServerLimitSettings resolveLimits(GrpcKeepAliveProperties.Limits limits) {
		requireLimit(LIMITS + "max-rst-frames", limits.getMaxRstFrames(), "RST_STREAM frames per window, such as 10000");
		Duration window = limits.getRstFramesWindow();
		requirePositive(LIMITS + "rst-frames-window", window, "the default of 1s");
		if (window != null && !window.isNegative() && !window.isZero() && (window.getNano() != 0 || window.getSeconds() > Integer.MAX_VALUE)) {
			reject(LIMITS + "rst-frames-window", format(window),
					"must be a whole number of seconds; grpc-java counts the window in seconds",
					"Use a duration in whole seconds such as 1s, or remove the property for the default of 1s.");
		}
		requireLimit(LIMITS + "max-concurrent-calls-per-connection", limits.getMaxConcurrentCallsPerConnection(),
				"calls, such as 100");
		requireLimit(LIMITS + "max-connections", limits.getMaxConnections(), "connections, such as 10000");
		requirePositive(LIMITS + "flood-window", limits.getFloodWindow(), "the default of 10s");
		requireLimit(LIMITS + "max-unsolicited-ping-acks", limits.getMaxUnsolicitedPingAcks(), "frames, such as 10");
		requireLimit(LIMITS + "max-settings-frames", limits.getMaxSettingsFrames(), "frames, such as 100");
		requireLimit(LIMITS + "max-consecutive-empty-frames", limits.getMaxConsecutiveEmptyFrames(),
				"frames, such as 10");
		requireLimit(LIMITS + "max-window-update-frames", limits.getMaxWindowUpdateFrames(), "frames, such as 100");
		requireRatio(LIMITS + "window-update-ratio", limits.getWindowUpdateRatio(), "10");
		requireLimit(LIMITS + "max-premature-resets", limits.getMaxPrematureResets(), "resets, such as 1000");
		long metadata = limits.getMaxInboundMetadataSize().toBytes();
		if (metadata != LimitSetting.OFF && (metadata < 1 || metadata > Integer.MAX_VALUE)) {
			reject(LIMITS + "max-inbound-metadata-size", limits.getMaxInboundMetadataSize().toString(),
					"must be between 1B and 2147483647B (grpc-java takes an int), or -1 for no limit",
					"Use a size such as 8KB (the default, grpc-java's own) or 64KB, or -1 to turn the limit off.");
		}
		if (!this.violations.isEmpty()) {
			return null;
		}
		LimitSetting metadataSetting = (metadata == LimitSetting.OFF)
				// grpc-java has no "off": its largest value is as good as none
				? new LimitSetting(LIMITS + "max-inbound-metadata-size", null, null, null)
				: LimitSetting.unchanged(LIMITS + "max-inbound-metadata-size", metadata);
		return new ServerLimitSettings(LimitSetting.unchanged(LIMITS + "max-rst-frames", limits.getMaxRstFrames()),
				DurationSetting.unchanged(LIMITS + "rst-frames-window", window),
				LimitSetting.unchanged(LIMITS + "max-concurrent-calls-per-connection",
						limits.getMaxConcurrentCallsPerConnection()),
				metadataSetting, LimitSetting.unchanged(LIMITS + "max-connections", limits.getMaxConnections()),
				DurationSetting.unchanged(LIMITS + "flood-window", limits.getFloodWindow()),
				LimitSetting.unchanged(LIMITS + "max-unsolicited-ping-acks", limits.getMaxUnsolicitedPingAcks()),
				LimitSetting.unchanged(LIMITS + "max-settings-frames", limits.getMaxSettingsFrames()),
				LimitSetting.unchanged(LIMITS + "max-consecutive-empty-frames", limits.getMaxConsecutiveEmptyFrames()),
				LimitSetting.unchanged(LIMITS + "max-window-update-frames", limits.getMaxWindowUpdateFrames()),
				LimitSetting.unchanged(LIMITS + "window-update-ratio", limits.getWindowUpdateRatio()),
				LimitSetting.unchanged(LIMITS + "max-premature-resets", limits.getMaxPrematureResets()));
	}

	/** A count limit: positive, or -1 for none. */
	private void requireLimit(String property, long value, String example) {
		if (value != LimitSetting.OFF && value < 1) {
			reject(property, String.valueOf(value), "must be positive, or -1 for no limit",
					"Use a positive number of " + example + ", or -1 to turn the limit off.");
		}
	}

	/** A ratio of a limit: zero or positive; it has no "off" of its own (its limit has). */
	private void requireRatio(String property, long value, String example) {
		if (value < 0) {
			reject(property, String.valueOf(value), "must be 0 or positive; it cannot be turned off by itself",
					"Use a number such as " + example + " (the default), or 0 to earn nothing; to turn the rule off, set "
							+ "its max- limit to -1.");
		}
	}

	private void validateChannelDefaults(GrpcKeepAliveProperties.ChannelDefaults defaults) {
		requirePositive(DEFAULTS + "time", defaults.getTime(), "keepalive disabled");
		requirePositive(DEFAULTS + "timeout", defaults.getTimeout(), "the gRPC default of 20s");
	}

	private @Nullable ChannelKeepAliveSettings resolveChannel(String name, GrpcKeepAliveProperties.Channel channel) {
		String prefix = KeepAliveSettings.channelPrefix(name) + ".";
		GrpcKeepAliveProperties.ChannelDefaults defaults = this.properties.getClient().getDefaults();
		String target = channel.getTarget();
		if (!StringUtils.hasText(target)) {
			reject(prefix + "target", String.valueOf(target), "is required: a channel needs a target",
					"Set " + name(prefix + "target") + " to a gRPC target such as 'localhost:9090' or"
							+ " 'dns:///orders:443', or remove the channel.");
		}
		else if (containsWhitespace(target)) {
			reject(prefix + "target", target, "contains white space, which no gRPC target can",
					"Remove the white space, for example 'localhost:9090'.");
		}
		requirePositive(prefix + "time", channel.getTime(), "client.defaults.time");
		requirePositive(prefix + "timeout", channel.getTimeout(), "client.defaults.timeout");
		if (target == null || !this.violations.isEmpty()) {
			return null;
		}
		Duration time = (channel.getTime() != null) ? channel.getTime() : defaults.getTime();
		Duration timeout = (channel.getTimeout() != null) ? channel.getTimeout() : defaults.getTimeout();
		boolean withoutCalls = (channel.getWithoutCalls() != null) ? channel.getWithoutCalls()
				: defaults.isWithoutCalls();
		String timeProperty = name((channel.getTime() != null) ? prefix + "time" : DEFAULTS + "time");
		String timeoutProperty = name((channel.getTimeout() != null) ? prefix + "timeout" : DEFAULTS + "timeout");
		DurationSetting timeSetting = adjusted(GrpcJavaLimits.keepAliveTime(timeProperty, time));
		if (withoutCalls && !timeSetting.isEnabled()) {
			this.warnings.add("Channel '" + name + "' sets without-calls=true but has no keepalive time, so it sends"
					+ " no keepalive pings at all; set " + name(prefix + "time") + " or " + name(DEFAULTS + "time"));
		}
		return new ChannelKeepAliveSettings(name, target, timeSetting,
				adjusted(GrpcJavaLimits.keepAliveTimeout(timeoutProperty, timeout)), withoutCalls,
				channel.getSsl().getBundle());
	}

	private DurationSetting adjusted(DurationSetting setting) {
		if (setting.isAdjusted()) {
			String warning = setting.property() + "=" + format(setting.requested()) + " takes effect as "
					+ format(setting.effective()) + ": " + setting.adjustment();
			if (!this.warnings.contains(warning)) {
				this.warnings.add(warning);
			}
		}
		return setting;
	}

	private void requirePositive(String property, @Nullable Duration value, String whenRemoved) {
		if (value != null && (value.isZero() || value.isNegative())) {
			reject(property, format(value), "must be a positive duration; grpc-java rejects zero and negative values",
					"Use a positive duration such as 30s, or remove the property for "
							+ this.names.whenRemoved(property, whenRemoved) + ".");
		}
	}

	private void requireNotNegative(String property, @Nullable Duration value, String fix) {
		if (value != null && value.isNegative()) {
			reject(property, format(value), "must not be negative", fix);
		}
	}

	/** Rejects the value of {@code property}, one of ours, reported under the name it was read from. */
	private void reject(String property, String value, String problem, String fix) {
		this.violations.add(new ConfigurationViolation(name(property), value, problem, fix));
	}

	private String name(String ours) {
		return this.names.name(ours);
	}

	private static boolean containsWhitespace(String value) {
		return value.chars().anyMatch(Character::isWhitespace);
	}

	static String format(@Nullable Duration duration) {
		if (duration == null) {
			return "infinite (off)";
		}
		return DurationFormat.format(duration);
	}

}
