package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.config.PropertyNames;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.transport.ConnectionInstrumentation;
import dev.grpckeepalive.transport.FrameObservingTransport;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.grpc.client.autoconfigure.GrpcClientProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.Environment;
import org.springframework.grpc.client.GrpcChannelBuilderCustomizer;

import static dev.grpckeepalive.config.DurationSetting.saturatedNanos;

/**
 * Spring Boot's own gRPC channels, seen through this starter: a customizer that runs after
 * Spring Boot's channel properties, applies the {@code grpc.keepalive.client.defaults.*}
 * options the application set, and installs connection tracking and the frame observer on
 * every Netty channel Spring Boot creates; each such channel then shows in the endpoint,
 * health and meters.
 *
 * <p>The more specific setting wins: an option a configured channel sets itself
 * ({@code spring.grpc.client.channel.<name>.keepalive.*}) beats
 * {@code grpc.keepalive.client.defaults.*}, which in turn beats Spring Boot's defaults (its
 * stock values and the channel {@code default}, which Spring Boot applies to targets).
 *
 * <p>A {@code unix:} target gets the frame observer on epoll's domain socket channel, as
 * Spring Boot's own channel uses there. In-process channels ({@code in-process:} targets) are
 * built by Spring Boot's in-process factory with its own builder type, to which this
 * customizer does not apply: they are left as they are (they have no transport to keep
 * alive).
 *
 * <p>Spring Boot calls the customizer with the string {@code createChannel} was given: a
 * channel name or a target. As Spring Boot does, a key of {@code spring.grpc.client.channel}
 * is that channel, with its properties; anything else is a target, which Spring Boot builds
 * with the properties of the channel {@code default} (or its stock defaults). Targets are
 * tracked under bounded names, see {@link ChannelNames}. Property names are only ever built
 * from configured keys, never from a target.
 *
 * <p>There is one tracker per name, created with the first channel of that name and reused
 * by every later one: the meters bound to it (once, when it appears) keep counting the
 * connections of every channel of that name. Every channel of one name has the same
 * settings, since they are worked out per configured channel and once for all targets.
 *
 * <p>The settings of every configured channel and of targets are worked out, validated and
 * warned about at startup, from Spring Boot's own {@link GrpcClientProperties} (a bare
 * number is seconds there), each reported under the property it came from.
 */
final class CompanionChannels implements GrpcChannelBuilderCustomizer<NettyChannelBuilder>, TrackedChannels,
		ApplicationListener<ContextClosedEvent>, DisposableBean {

	private static final Log logger = LogFactory.getLog(CompanionChannels.class);

	private static final String OURS = GrpcKeepAliveProperties.PREFIX + ".client.defaults.";

	/** Spring Boot's channel whose properties apply to every target without a channel of its own. */
	private static final String FALLBACK = "default";

	private final Environment environment;

	private final BootKeepAliveProperties properties;

	private final @Nullable FrameObservingTransport transport;

	private final Map<String, GrpcClientProperties.Channel> boots;

	private final @Nullable Duration oursTime;

	private final @Nullable Duration oursTimeout;

	private final @Nullable Boolean oursWithoutCalls;

	/** The settings of each configured channel by Spring Boot's key, and of targets under {@link #FALLBACK}. */
	private final Map<String, ChannelKeepAliveSettings> settings;

	private final ChannelNames names;

	private final Map<String, TrackedChannel> channels = Collections.synchronizedMap(new LinkedHashMap<>());

	private final List<Consumer<TrackedChannel>> listeners = new CopyOnWriteArrayList<>();

	/** The writer side of each tracked channel, by name: what the instrumentation feeds and shutdown marks. */
	private final Map<String, ConnectionTracker> trackers = new java.util.concurrent.ConcurrentHashMap<>();

	CompanionChannels(Environment environment, GrpcKeepAliveProperties keepAlive) {
		this.environment = environment;
		this.properties = new BootKeepAliveProperties(environment, logger);
		this.transport = keepAlive.getFrames().isEnabled() ? FrameObservingTransport.forChannels() : null;
		this.boots = Map.copyOf(this.properties.boots("spring.grpc.client", GrpcClientProperties.class).getChannel());
		this.oursTime = this.properties.ours(OURS + "time", Duration.class);
		this.oursTimeout = this.properties.ours(OURS + "timeout", Duration.class);
		this.oursWithoutCalls = this.properties.ours(OURS + "without-calls", Boolean.class);
		this.settings = inForce();
		this.names = new ChannelNames(
				this.boots.keySet().stream().map(ChannelNames::configured).collect(Collectors.toSet()));
	}

	/** Whether Spring Boot's channel {@code key} sets its keepalive {@code option} itself. */
	private boolean ownsOption(String key, String option) {
		return !FALLBACK.equals(key)
				&& this.properties.isSet(BootKeepAliveProperties.channelProperty(key, "keepalive." + option));
	}

	/** Our default {@code option}, if set and the channel {@code key} does not set its own. */
	private <T> @Nullable T ours(String key, String option, @Nullable T value) {
		return (value != null && !ownsOption(key, option)) ? value : null;
	}

	/**
	 * The options in force on each configured channel and on targets, validated like this
	 * starter's own, all at once so that one report lists every invalid value. Each value
	 * taken from Spring Boot is reported under its {@code spring.grpc.client.channel.*} name.
	 */
	private Map<String, ChannelKeepAliveSettings> inForce() {
		GrpcKeepAliveProperties merged = new GrpcKeepAliveProperties();
		PropertyNames names = PropertyNames.ours();
		Map<String, String> keys = new LinkedHashMap<>();
		for (Map.Entry<String, GrpcClientProperties.Channel> entry : this.boots.entrySet()) {
			String name = ChannelNames.configured(entry.getKey());
			keys.put(entry.getKey(), name);
			names = merge(merged, names, name, entry.getKey(), entry.getValue());
		}
		if (!this.boots.containsKey(FALLBACK)) {
			// what Spring Boot applies to targets when no channel 'default' is configured
			keys.put(FALLBACK, FALLBACK);
			names = merge(merged, names, FALLBACK, FALLBACK, new GrpcClientProperties.Channel());
		}
		KeepAliveSettings resolved = KeepAliveSettings.resolve(merged, names);
		Map<String, ChannelKeepAliveSettings> settings = new LinkedHashMap<>();
		keys.forEach((key, name) -> settings.put(key, resolved.channel(name)));
		return Map.copyOf(settings);
	}

	/** Adds Spring Boot's channel {@code key} to {@code merged} as channel {@code name}, with ours winning. */
	private PropertyNames merge(GrpcKeepAliveProperties merged, PropertyNames names, String name, String key,
			GrpcClientProperties.Channel boots) {
		GrpcClientProperties.Channel stock = new GrpcClientProperties.Channel();
		String ours = GrpcKeepAliveProperties.PREFIX + ".client.channels." + name + ".";
		GrpcKeepAliveProperties.Channel channel = new GrpcKeepAliveProperties.Channel();
		channel.setTarget(this.environment.resolvePlaceholders(boots.getTarget()));
		PropertyNames merging = names.with(ours + "target", BootKeepAliveProperties.channelProperty(key, "target"),
				BootKeepAliveProperties.bootsDefault(stock.getTarget()));
		Duration time = ours(key, "time", this.oursTime);
		channel.setTime((time != null) ? time : boots.getKeepalive().getTime());
		merging = source(merging, ours, "time", time, key, stock.getKeepalive().getTime());
		Duration timeout = ours(key, "timeout", this.oursTimeout);
		channel.setTimeout((timeout != null) ? timeout : boots.getKeepalive().getTimeout());
		merging = source(merging, ours, "timeout", timeout, key, stock.getKeepalive().getTimeout());
		Boolean withoutCalls = ours(key, "without-calls", this.oursWithoutCalls);
		channel.setWithoutCalls((withoutCalls != null) ? withoutCalls : boots.getKeepalive().isWithoutCalls());
		merged.getClient().getChannels().put(name, channel);
		return merging;
	}

	/**
	 * Names the source of the keepalive {@code option} of a merged channel: ours when the
	 * application set it, else the property of Spring Boot's channel {@code key}.
	 */
	private static PropertyNames source(PropertyNames names, String merged, String option,
			@Nullable Object oursValue, String key, @Nullable Object bootsDefault) {
		String boots = BootKeepAliveProperties.channelProperty(key, "keepalive." + option);
		if (oursValue != null) {
			return names.with(merged + option, OURS + option, "the value of " + boots);
		}
		return names.with(merged + option, boots, BootKeepAliveProperties.bootsDefault(bootsDefault));
	}

	/** Spring Boot passes the name it was asked for: a configured channel's name, or a target. */
	@Override
	public void customize(String nameOrTarget, NettyChannelBuilder builder) {
		String key = this.boots.containsKey(nameOrTarget) ? nameOrTarget : FALLBACK;
		Duration time = ours(key, "time", this.oursTime);
		if (time != null) {
			builder.keepAliveTime(saturatedNanos(time), TimeUnit.NANOSECONDS);
		}
		Duration timeout = ours(key, "timeout", this.oursTimeout);
		if (timeout != null) {
			builder.keepAliveTimeout(saturatedNanos(timeout), TimeUnit.NANOSECONDS);
		}
		Boolean withoutCalls = ours(key, "without-calls", this.oursWithoutCalls);
		if (withoutCalls != null) {
			builder.keepAliveWithoutCalls(withoutCalls);
		}
		TrackedChannel channel = track(nameOrTarget);
		// track() puts every channel's tracker in along with the channel
		ConnectionTracker tracker = Objects.requireNonNull(this.trackers.get(channel.settings().name()));
		ConnectionInstrumentation.install(builder, tracker, this.transport,
				channel.settings().timeout().requireEffective(), isDomainSocket(nameOrTarget));
	}

	/**
	 * Whether the channel connects to a Unix domain socket: its target, as Spring Boot
	 * resolves a configured channel's name to its target, is a {@code unix:} one.
	 */
	private boolean isDomainSocket(String nameOrTarget) {
		GrpcClientProperties.Channel configured = this.boots.get(nameOrTarget);
		String target = (configured != null) ? configured.getTarget() : nameOrTarget;
		return target != null && this.environment.resolvePlaceholders(target).startsWith("unix:");
	}

	/** The tracked channel for {@code nameOrTarget}: the one of its name if there is one, else a new one. */
	private TrackedChannel track(String nameOrTarget) {
		boolean configured = this.boots.containsKey(nameOrTarget);
		String key = configured ? nameOrTarget : FALLBACK;
		String target = configured ? null : this.environment.resolvePlaceholders(nameOrTarget);
		String name = (target == null) ? ChannelNames.configured(nameOrTarget) : this.names.forTarget(target);
		TrackedChannel channel;
		synchronized (this.channels) {
			TrackedChannel existing = this.channels.get(name);
			if (existing != null) {
				return existing;
			}
			// the settings hold every configured channel's key and FALLBACK
			ChannelKeepAliveSettings resolved = Objects.requireNonNull(this.settings.get(key));
			String shownTarget = (target == null) ? resolved.target() : name.equals(this.names.overflow())
					? "(targets beyond the first " + ChannelNames.MAX_TARGET_NAMES + ")" : target;
			ChannelKeepAliveSettings settings = new ChannelKeepAliveSettings(name, shownTarget, resolved.time(),
					resolved.timeout(), resolved.withoutCalls(), null);
			ConnectionTracker tracker = ConnectionTracker.create(Side.CLIENT, name, null, null);
			channel = new TrackedChannel(settings, null, tracker);
			this.trackers.put(name, tracker);
			this.channels.put(name, channel);
		}
		logOverrides(name, target, key);
		if (target != null) {
			explainSameTarget(target, name);
		}
		this.listeners.forEach((listener) -> listener.accept(channel));
		return channel;
	}

	/**
	 * Tells, once per tracked name, that a target equal to a configured channel's target is
	 * not that channel: Spring Boot matches the string given to {@code createChannel}
	 * against its channel names only, so it applies {@code spring.grpc.client.channel.default.*}
	 * to a target, not the properties of a channel with that target.
	 */
	private void explainSameTarget(String target, String name) {
		String derived = ChannelNames.fromTarget(target);
		this.settings.forEach((key, settings) -> {
			if (!FALLBACK.equals(key) && derived.equals(ChannelNames.fromTarget(settings.target()))) {
				logger.info("Spring Boot's gRPC channel for target '" + target + "' is tracked as '" + name
						+ "', apart from channel '" + key + "' with the same target: Spring Boot applies "
						+ BootKeepAliveProperties.channelProperty(FALLBACK, "*") + " to a target, not "
						+ BootKeepAliveProperties.channelProperty(key, "*") + "; createChannel(\"" + key
						+ "\") uses those");
			}
		});
	}

	/** Logs, once per tracked name, each of our options that overrides Spring Boot's. */
	private void logOverrides(String name, @Nullable String target, String key) {
		String where = "Spring Boot's gRPC channel '" + name + "'"
				+ ((target != null) ? " (target " + target + ")" : "");
		GrpcClientProperties.Channel.Keepalive boots = this.boots
			.getOrDefault(key, new GrpcClientProperties.Channel())
			.getKeepalive();
		logOverride(key, "time", this.oursTime, boots.getTime(), where);
		logOverride(key, "timeout", this.oursTimeout, boots.getTimeout(), where);
		logOverride(key, "without-calls", this.oursWithoutCalls, boots.isWithoutCalls(), where);
	}

	/** Logs which of our default and the channel's own value of {@code option} applies, if both are set. */
	private void logOverride(String key, String option, @Nullable Object ours, @Nullable Object boots,
			String where) {
		if (ours == null) {
			return;
		}
		String bootsProperty = BootKeepAliveProperties.channelProperty(key, "keepalive." + option);
		if (ownsOption(key, option)) {
			this.properties.logOverride(bootsProperty, boots, OURS + option, ours, where);
		}
		else {
			this.properties.logOverride(OURS + option, ours, bootsProperty, boots, where);
		}
	}

	@Override
	public Map<String, TrackedChannel> tracked() {
		synchronized (this.channels) {
			return Collections.unmodifiableMap(new LinkedHashMap<>(this.channels));
		}
	}

	@Override
	public void onNewChannel(Consumer<TrackedChannel> listener) {
		this.listeners.add(listener);
	}

	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		this.trackers.values().forEach((tracker) -> tracker.shutdown().start());
	}

	/** Runs after Spring Boot's channel factory, which depends on this customizer, closed its channels. */
	@Override
	public void destroy() {
		if (this.transport != null) {
			this.transport.close();
		}
	}

}
