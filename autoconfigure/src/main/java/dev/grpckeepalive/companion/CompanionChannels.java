package dev.grpckeepalive.companion;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.client.TrackedChannel;
import dev.grpckeepalive.client.TrackedChannels;
import dev.grpckeepalive.config.ChannelKeepAliveSettings;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.KeepAliveSettings;
import dev.grpckeepalive.connection.ConnectionTracker;
import dev.grpckeepalive.connection.Side;
import dev.grpckeepalive.frame.ConnectionInstrumentation;
import dev.grpckeepalive.frame.FrameObservingTransport;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.env.Environment;
import org.springframework.grpc.client.GrpcChannelBuilderCustomizer;

import static dev.grpckeepalive.config.DurationSetting.saturatedNanos;

/**
 * Spring Boot's own gRPC channels, seen through this starter: a customizer that runs after
 * Spring Boot's channel properties, applies the {@code grpc.keepalive.client.defaults.*}
 * options the application set (they win over {@code spring.grpc.client.channel.<name>.keepalive.*}),
 * and installs connection tracking and the frame observer on every channel Spring Boot
 * creates; each such channel then shows in the endpoint, health and meters by its name.
 */
final class CompanionChannels implements GrpcChannelBuilderCustomizer<NettyChannelBuilder>, TrackedChannels,
		ApplicationListener<ContextClosedEvent>, DisposableBean {

	private static final Log logger = LogFactory.getLog(CompanionChannels.class);

	private static final String OURS = GrpcKeepAliveProperties.PREFIX + ".client.defaults.";

	private final Environment environment;

	private final BootKeepAliveProperties properties;

	private final @Nullable FrameObservingTransport transport;

	private final Map<String, TrackedChannel> channels = Collections.synchronizedMap(new LinkedHashMap<>());

	private final List<Consumer<TrackedChannel>> listeners = new CopyOnWriteArrayList<>();

	private final List<ConnectionTracker> trackers = new CopyOnWriteArrayList<>();

	CompanionChannels(Environment environment, GrpcKeepAliveProperties keepAlive) {
		this.environment = environment;
		this.properties = new BootKeepAliveProperties(environment, logger);
		this.transport = keepAlive.getFrames().isEnabled() ? FrameObservingTransport.forChannels() : null;
	}

	/** Spring Boot passes the name it was asked for: the channel name, or a target. */
	@Override
	public void customize(String name, NettyChannelBuilder builder) {
		String boots = "spring.grpc.client.channel." + name + ".keepalive.";
		String where = "Spring Boot's gRPC channel '" + name + "'";
		Duration time = this.properties.ours(OURS + "time", Duration.class);
		if (time != null) {
			builder.keepAliveTime(saturatedNanos(time), TimeUnit.NANOSECONDS);
			this.properties.logOverride(OURS + "time", time, boots + "time", Duration.ofMinutes(5), where);
		}
		Duration timeout = this.properties.ours(OURS + "timeout", Duration.class);
		if (timeout != null) {
			builder.keepAliveTimeout(saturatedNanos(timeout), TimeUnit.NANOSECONDS);
			this.properties.logOverride(OURS + "timeout", timeout, boots + "timeout", Duration.ofSeconds(20), where);
		}
		Boolean withoutCalls = this.properties.ours(OURS + "without-calls", Boolean.class);
		if (withoutCalls != null) {
			builder.keepAliveWithoutCalls(withoutCalls);
			this.properties.logOverride(OURS + "without-calls", withoutCalls, boots + "without-calls", false, where);
		}
		ChannelKeepAliveSettings settings = settings(name, boots);
		ConnectionTracker tracker = ConnectionTracker.create(Side.CLIENT, name, null, null);
		ConnectionInstrumentation.install(builder, tracker, this.transport, settings.timeout().effective());
		this.trackers.add(tracker);
		TrackedChannel channel = new TrackedChannel(settings, null, tracker);
		this.channels.put(name, channel);
		this.listeners.forEach((listener) -> listener.accept(channel));
	}

	/** The channel's options in force, validated like this starter's own. */
	private ChannelKeepAliveSettings settings(String name, String boots) {
		GrpcKeepAliveProperties merged = new GrpcKeepAliveProperties();
		GrpcKeepAliveProperties.Channel channel = new GrpcKeepAliveProperties.Channel();
		channel.setTarget(this.environment.getProperty("spring.grpc.client.channel." + name + ".target", name));
		channel.setTime(this.properties.value(OURS + "time", boots + "time", Duration.class, Duration.ofMinutes(5)));
		channel.setTimeout(
				this.properties.value(OURS + "timeout", boots + "timeout", Duration.class, Duration.ofSeconds(20)));
		channel.setWithoutCalls(
				this.properties.value(OURS + "without-calls", boots + "without-calls", Boolean.class, false));
		merged.getClient().getChannels().put(name, channel);
		return KeepAliveSettings.resolve(merged).channel(name);
	}

	@Override
	public Map<String, TrackedChannel> tracked() {
		synchronized (this.channels) {
			return Map.copyOf(this.channels);
		}
	}

	@Override
	public void onNewChannel(Consumer<TrackedChannel> listener) {
		this.listeners.add(listener);
	}

	@Override
	public void onApplicationEvent(ContextClosedEvent event) {
		this.trackers.forEach(ConnectionTracker::shutdownStarted);
	}

	/** Runs after Spring Boot's channel factory, which depends on this customizer, closed its channels. */
	@Override
	public void destroy() {
		if (this.transport != null) {
			this.transport.close();
		}
	}

}
